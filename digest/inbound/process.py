"""Acting on what came back: one ``Report`` in, its effects and its record written in one
transaction (``Inbound.handle``), the same for mail (SMTP, LMTP, IMAP) and webhooks.

- hard bounce: the address is suppressed, the subscriber marked bounced, the delivery
  ``bounced``;
- soft bounce: counted; ``inbound.soft_bounce_limit`` of them within
  ``inbound.soft_bounce_days`` suppress the address like a hard bounce;
- complaint: the subscriber is unsubscribed, the address suppressed, the delivery
  ``complained``;
- unsubscribe: the subscriber a signed token names (the mailto subject), or whose delivery a
  proof names (a provider's unsubscribe event, a mail to our VERP address), is unsubscribed;
- auto-reply: recorded, nothing else (an out-of-office is not a bounce);
- anything else: kept, with its text, for the operator.

A report acts only on what is provably ours (anyone can mail the bounce address or write a
report naming any address): a valid VERP token, or a keyed Message-ID we gave (``compose
.message_ids``), of a delivery the ledger shows was claimed (sent or attempted), to the
address the subscriber still has (no change of address since);
or a provider's message id that the relay answered that subscriber's delivery with; or, for a
notice (confirm, welcome, ...), its keyed Message-ID checked against the address it was mailed
to; or, for a mailed unsubscribe, a valid signed unsubscribe token. Reports without such a proof
(an address in Final-Recipient or Original-Rcpt-To only, a bogus token, a Message-ID we did not
give, an address never mailed) are kept for the operator and change nobody. An event already
recorded (same message, same webhook event) changes nothing, and a webhook post whose
single-use value was seen before is refused (``Replayed``). Writes subscribers and
suppressions (``subscribers``), deliveries (``ledger``) and inbound_events and webhook_nonces
(``inbound.store``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from digest.compose.message_ids import MessageIds
from digest.inbound import store as inbound_store
from digest.inbound.classify import classify, sender_of
from digest.inbound.kept import KEPT_PER_SENDER, KEPT_REPEAT_WINDOW, fingerprints, kept_text
from digest.inbound.report import Report
from digest.inbound.signatures import WebhookRefused
from digest.sending import ledger
from digest.sending.verp import DeliveryRef, Verp
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.errors import DigestError, NotFound
from subscribers import signup, store
from subscribers.model import Subscriber, email_hash
from subscribers.tokens import BadToken, Signer
from subscribers.unsubscribe import unsubscribe

log = logging.getLogger("digest.inbound")


# Mailgun and SendGrid posts older than the timestamp window are refused, so their nonces can go
# then (twice the window: a timestamp may be that far ahead); SNS and Postmark posts carry no
# timestamp we check, so theirs are kept this long.
UNTIMED_NONCE_DAYS = 30


class Replayed(WebhookRefused):
    """A webhook post whose single-use value (token, message id, signed content) was used."""


@dataclass(frozen=True, slots=True)
class Proof:
    """Why a report is about our mail: the person, and the delivery when one is named."""

    person: Subscriber
    ref: DeliveryRef | None
    how: str  # verp | message-id | provider-id | notice | token


@dataclass(frozen=True, slots=True)
class Handled:
    """What became of one report: its kind, the action taken and about whom."""

    kind: str
    action: str  # suppressed | counted | unsubscribed | ignored | kept | duplicate
    detail: str
    email: str | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def message_key(raw: bytes) -> str:
    """The key that makes a message read twice a no-op."""
    return hashlib.sha256(raw).hexdigest()


class Inbound:
    """The inbound service for one configuration and database."""

    def __init__(
        self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.verp = Verp.from_settings(settings)
        self.signer = Signer.from_settings(settings.web)
        self.message_ids = MessageIds.from_settings(settings)

    def handle_message(
        self, raw: bytes, envelope_recipients: Sequence[str] = (), *, via: str
    ) -> Handled:
        """Classify and act on one message that came back by mail. A message the classifier
        or the acting trips on (a bug, odd input) is kept for the operator with a logged
        warning, never refused: only a database problem (``DigestError``) is raised, so that
        the caller can try again later."""
        key = message_key(raw)
        try:
            report = classify(raw, envelope_recipients)
        except Exception as exc:  # anything: the message is kept, never lost or refused
            log.warning("inbound message %s kept: cannot classify it (%r)", key[:12], exc)
            report = _unreadable(raw, "cannot classify", exc)
        try:
            return self.handle(report, via=via, event_key=key, raw=raw)
        except DigestError:
            raise
        except Exception as exc:
            log.warning("inbound message %s kept: cannot act on it (%r)", key[:12], exc)
            return self.handle(
                _unreadable(raw, f"cannot act on this {report.kind}", exc),
                via=via,
                event_key=key,
                raw=raw,
            )

    def handle_reports(
        self,
        reports: Sequence[Report],
        *,
        via: str,
        key: str,
        nonce: str | None = None,
        timed: bool = False,
    ) -> list[Handled]:
        """Act on the reports of one webhook post in one transaction; ``key`` identifies the
        post. ``nonce`` is its single-use value: a post whose nonce was accepted before raises
        ``Replayed`` and changes nothing. ``timed``: the post's timestamp was checked against
        ``inbound.webhook_max_age_seconds``, so older nonces are pruned after that window."""
        now = self.clock()
        with transaction(self.engine) as connection:
            if nonce is not None:
                self._prune_nonces(connection, via, timed, now)
                if not inbound_store.use_nonce(connection, via, nonce, now):
                    raise Replayed(f"{via} webhook replayed: this post was accepted before")
            return [
                self._handle_in(
                    connection,
                    r,
                    via=via,
                    event_key=hashlib.sha256(f"{key}:{i}".encode()).hexdigest(),
                    raw=None,
                    now=now,
                )
                for i, r in enumerate(reports)
            ]

    def _prune_nonces(self, connection: Connection, via: str, timed: bool, now: datetime) -> None:
        if timed:
            window = timedelta(seconds=2 * self.settings.inbound.webhook_max_age_seconds)
        else:
            window = timedelta(days=UNTIMED_NONCE_DAYS)
        inbound_store.prune_nonces(connection, via, now - window)

    def handle(
        self, report: Report, *, via: str, event_key: str, raw: bytes | None = None
    ) -> Handled:
        """Act on one report and record it, in one transaction; a replay changes nothing."""
        now = self.clock()
        with transaction(self.engine) as connection:
            return self._handle_in(
                connection, report, via=via, event_key=event_key, raw=raw, now=now
            )

    def _handle_in(
        self,
        connection: Connection,
        report: Report,
        *,
        via: str,
        event_key: str,
        raw: bytes | None,
        now: datetime,
    ) -> Handled:
        if inbound_store.seen(connection, event_key):
            return Handled(report.kind, "duplicate", "already processed")
        proof: Proof | None = None
        if report.kind == "auto_reply":
            action, detail = "ignored", report.detail
        elif report.kind == "unknown":
            action, detail = "kept", report.detail
        else:
            found = self._proof(connection, report, now)
            if isinstance(found, Proof):
                proof = found
                action, detail = self._act(connection, report, found.ref, found.person, now)
            else:
                action, detail = "kept", _unproven(report, found)
        person = proof.person if proof is not None else None
        ref = proof.ref if proof is not None else None
        fingerprint = sender_key = None
        if action == "kept" and raw is not None:
            fingerprint, sender_key = fingerprints(report.kind, report.sender, detail)
            since = now - KEPT_REPEAT_WINDOW
            repeated = inbound_store.repeat_of(
                connection, fingerprint, sender_key, since, KEPT_PER_SENDER
            )
            if repeated is not None:
                inbound_store.count_repeat(connection, repeated)
                return Handled(report.kind, "kept", f"{detail} (a repeat of kept {repeated})")
        inbound_store.record(
            connection,
            inbound_store.InboundEvent(
                event_key=event_key,
                received_at=now,
                via=via,
                kind=report.kind,
                action=action,
                detail=detail[:1000],
                email_hash=email_hash(person.email) if person is not None else None,
                issue_id=ref.issue_id if ref is not None else None,
                subscriber_id=person.id if person is not None else None,
                raw=kept_text(raw, self.settings.inbound.keep_bytes)
                if action == "kept" and raw
                else None,
                fingerprint=fingerprint,
                sender_key=sender_key,
            ),
        )
        if action == "kept":
            inbound_store.prune_kept(connection, self.settings.inbound.kept_max)
        return Handled(report.kind, action, detail, person.email if person else None)

    # proving whom it is about

    def _proof(self, connection: Connection, report: Report, now: datetime) -> Proof | str:
        """The proof that ``report`` is about mail we sent, or why there is none."""
        why = "it carries no VERP token, Message-ID or provider id of mail we sent"
        if report.kind == "unsubscribe":
            for token in report.unsubscribe_tokens:
                person = self._token_holder(connection, token, now)
                if person is not None:
                    return Proof(person, None, "token")
        if self.verp is not None:
            for address in report.verp_candidates:
                ref = self.verp.read_address(address)
                if ref is not None:
                    found = self._delivery_proof(connection, ref, "verp")
                    if isinstance(found, Proof):
                        return found
                    why = found
        for message_id in report.message_ids:
            pair = ledger.find_by_message_id(connection, message_id)
            if pair is not None and self.message_ids.is_digest(message_id, *pair):
                found = self._delivery_proof(connection, DeliveryRef(*pair), "message-id")
                if isinstance(found, Proof):
                    return found
                why = found
            if report.kind != "unsubscribe":
                for address in report.addresses:
                    if self.message_ids.is_notice_to(message_id, address):
                        person = store.find(connection, address)
                        if person is not None:
                            return Proof(person, None, "notice")
        for provider_id in report.provider_ids:
            for address in report.addresses:
                person = store.find(connection, address)
                left = (
                    ledger.left_with_reply(connection, person.id, provider_id)
                    if person is not None
                    else None
                )
                if left is not None:
                    ref = DeliveryRef(left.issue_id, left.subscriber_id)
                    found = self._delivery_proof(connection, ref, "provider-id")
                    if isinstance(found, Proof):
                        return found
                    why = found
        return why

    def _delivery_proof(self, connection: Connection, ref: DeliveryRef, how: str) -> Proof | str:
        """A proof when the delivery's message left and its address is still the subscriber's."""
        left = ledger.left_delivery(connection, ref.issue_id, ref.subscriber_id)
        if left is None:
            return f"its {how} names a delivery whose message was never sent"
        try:
            person = store.get(connection, ref.subscriber_id)
        except NotFound:
            return f"its {how} names a subscriber who is gone"
        if store.address_changed_since(connection, person.id, left.left_at):
            return f"the subscriber moved to another address after that message left ({how})"
        return Proof(person, ref, how)

    def _token_holder(self, connection: Connection, token: str, now: datetime) -> Subscriber | None:
        try:
            claims = self.signer.read(token, "unsubscribe", now=now)
        except BadToken:
            return None
        version = claims.extra.get("v")
        if not claims.subject.isdigit() or not isinstance(version, int):
            return None
        return signup.current_subscriber(connection, int(claims.subject), version)

    # acting

    def _act(
        self,
        connection: Connection,
        report: Report,
        ref: DeliveryRef | None,
        person: Subscriber,
        now: datetime,
    ) -> tuple[str, str]:
        detail = report.detail
        if report.kind == "hard_bounce":
            self._suppress_bounced(connection, person, detail, now)
            if ref is not None:
                ledger.mark_returned(
                    connection, ref.issue_id, ref.subscriber_id, "bounced", detail, now
                )
            return "suppressed", detail
        if report.kind == "soft_bounce":
            inbound = self.settings.inbound
            since = now - timedelta(days=inbound.soft_bounce_days)
            count = inbound_store.soft_bounces_since(connection, email_hash(person.email), since)
            if count + 1 < inbound.soft_bounce_limit:
                return (
                    "counted",
                    f"{detail} (soft bounce {count + 1} of {inbound.soft_bounce_limit})",
                )
            why = f"{count + 1} soft bounces in {inbound.soft_bounce_days} days; last: {detail}"
            self._suppress_bounced(connection, person, why, now)
            if ref is not None:
                ledger.mark_returned(
                    connection, ref.issue_id, ref.subscriber_id, "bounced", why, now
                )
            return "suppressed", why
        if report.kind == "complaint":
            unsubscribe(connection, person, now, via="complaint", ip=None, user_agent=None)
            store.suppress(connection, person.email, "complaint", now, detail=detail[:500])
            if ref is not None:
                ledger.mark_returned(
                    connection, ref.issue_id, ref.subscriber_id, "complained", detail, now
                )
            return "unsubscribed", detail
        # unsubscribe
        unsubscribe(connection, person, now, via="mail", ip=None, user_agent=None)
        return "unsubscribed", detail

    def _suppress_bounced(
        self, connection: Connection, person: Subscriber, why: str, now: datetime
    ) -> None:
        store.suppress(connection, person.email, "bounce", now, detail=why[:500])
        if person.status in ("active", "paused", "pending"):
            store.update_fields(connection, person.id, now, status="bounced")
        store.record_event(connection, person.id, "bounce", now, detail={"reply": why[:500]})


def _unproven(report: Report, why: str) -> str:
    about = f" about {', '.join(report.addresses[:3])}" if report.addresses else ""
    return f"{report.detail}{about}; kept, not acted on: {why}"


def _unreadable(raw: bytes, what: str, exc: Exception) -> Report:
    """The report for a message we could not read or act on: kept, with why."""
    return Report(
        "unknown",
        detail=f"{what} ({type(exc).__name__}); kept for the operator",
        sender=sender_of(raw),
    )
