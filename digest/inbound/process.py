"""Acting on what came back: one ``Report`` in, its effects and its record written in one
transaction (``Inbound.handle``), the same for mail (SMTP, LMTP, IMAP) and webhooks.

- hard bounce: the address is suppressed, the subscriber marked bounced, the delivery
  ``bounced``;
- soft bounce: counted; ``inbound.soft_bounce_limit`` of them within
  ``inbound.soft_bounce_days`` suppress the address like a hard bounce;
- complaint: the subscriber is unsubscribed, the address suppressed, the delivery
  ``complained``;
- unsubscribe: the subscriber a signed token names (the mailto subject, or our VERP address)
  is unsubscribed; a provider's signed webhook names them by address;
- auto-reply: recorded, nothing else (an out-of-office is not a bounce);
- anything else, or a report that names nobody we know: kept, with its text, for the operator.

The delivery is found by our VERP token first, else by the quoted Message-ID, else the
subscriber by address and then their newest delivery that left. An event already recorded
(same message or webhook event) changes nothing. Writes subscribers and suppressions
(``subscribers``), deliveries (``ledger``) and inbound_events (``inbound.store``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from digest.inbound import store as inbound_store
from digest.inbound.classify import classify
from digest.inbound.report import Report
from digest.sending import ledger
from digest.sending.verp import DeliveryRef, Verp
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.errors import NotFound
from subscribers import signup, store
from subscribers.model import Subscriber, email_hash
from subscribers.tokens import BadToken, Signer
from subscribers.unsubscribe import unsubscribe

# Events from these sources are signed by the provider: the addresses in them are vouched for.
SIGNED_VIA = ("ses", "postmark", "mailgun", "sendgrid")


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

    def handle_message(
        self, raw: bytes, envelope_recipients: Sequence[str] = (), *, via: str
    ) -> Handled:
        """Classify and act on one message that came back by mail."""
        report = classify(raw, envelope_recipients)
        return self.handle(report, via=via, event_key=message_key(raw), raw=raw)

    def handle_reports(self, reports: Sequence[Report], *, via: str, key: str) -> list[Handled]:
        """Act on the reports of one webhook post; ``key`` identifies the post."""
        return [
            self.handle(r, via=via, event_key=hashlib.sha256(f"{key}:{i}".encode()).hexdigest())
            for i, r in enumerate(reports)
        ]

    def handle(
        self, report: Report, *, via: str, event_key: str, raw: bytes | None = None
    ) -> Handled:
        """Act on one report and record it, in one transaction; a replay changes nothing."""
        now = self.clock()
        with transaction(self.engine) as connection:
            if inbound_store.seen(connection, event_key):
                return Handled(report.kind, "duplicate", "already processed")
            ref = self._delivery(connection, report)
            person = self._person(connection, report, ref, via, now)
            if ref is None and person is not None and report.kind != "unsubscribe":
                found = ledger.latest_sent(connection, person.id)  # named by address only
                ref = DeliveryRef(*found) if found is not None else None
            action, detail = self._act(connection, report, ref, person, now)
            kept = action == "kept" and raw is not None
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
                    raw=_text(raw, self.settings.inbound.keep_bytes) if kept and raw else None,
                ),
            )
        return Handled(report.kind, action, detail, person.email if person else None)

    # finding whom it is about

    def _delivery(self, connection: Connection, report: Report) -> DeliveryRef | None:
        if self.verp is not None:
            for address in report.verp_candidates:
                ref = self.verp.read_address(address)
                if ref is not None:
                    return ref
        for message_id in report.message_ids:
            found = ledger.find_by_message_id(connection, message_id)
            if found is not None:
                return DeliveryRef(*found)
        return None

    def _person(
        self,
        connection: Connection,
        report: Report,
        ref: DeliveryRef | None,
        via: str,
        now: datetime,
    ) -> Subscriber | None:
        if report.kind == "unsubscribe":
            for token in report.unsubscribe_tokens:
                person = self._token_holder(connection, token, now)
                if person is not None:
                    return person
            if ref is None and via not in SIGNED_VIA:
                return None  # a mailed unsubscribe without a valid token names nobody
        if ref is not None:
            try:
                return store.get(connection, ref.subscriber_id)
            except NotFound:
                return None
        for address in report.addresses:
            person = store.find(connection, address)
            if person is not None:
                return person
        return None

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
        person: Subscriber | None,
        now: datetime,
    ) -> tuple[str, str]:
        detail = report.detail
        if report.kind == "auto_reply":
            return "ignored", detail
        if report.kind == "unknown":
            return "kept", detail
        if person is None:
            return "kept", f"{detail} (names no subscriber of ours)"
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


def _text(raw: bytes, limit: int) -> str:
    return raw[:limit].decode("utf-8", "replace")
