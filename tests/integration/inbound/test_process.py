"""Acting on what comes back: bounces suppress, complaints and mailed unsubscribes unsubscribe,
soft bounces count, auto-replies do nothing, the rest is kept for the operator."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Engine

from digest.compose import notice
from digest.inbound import store as inbound_store
from digest.inbound.process import Inbound
from digest.inbound.rates import return_rates
from digest.sending.verp import Verp
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import signup, store
from subscribers.links import SubscriberLinks
from subscribers.tokens import Signer
from tests.integration.inbound.support import (
    CORPUS,
    delivery_status,
    message_id,
    sent_digest,
    subscriber_status,
)


def _verp_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"sender": settings.sender.model_copy(update={"verp_address": "bounces@d.example"})}
    )


def _at(moment: datetime) -> datetime:
    return moment


def _dsn(name: str, **values: str) -> bytes:
    raw = (CORPUS / name).read_text()
    for key, value in values.items():
        raw = raw.replace(key, value)
    return raw.encode()


def test_a_hard_bounce_by_verp_suppresses_and_marks_the_delivery(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    settings = _verp_settings(settings)
    issue, ids = sent_digest(engine, now, ["nobody.here@example.com", "fine@example.com"])
    verp = Verp.from_settings(settings)
    assert verp is not None
    envelope = verp.envelope_sender(issue, ids["nobody.here@example.com"])
    raw = _dsn("postfix_hard.eml", **{"bounces+7-42-aaaaaaaaaaaaaaaa@digest.example.org": envelope})
    handled = Inbound(engine, settings, clock=lambda: now).handle_message(
        raw, [envelope], via="smtp"
    )
    assert (handled.kind, handled.action) == ("hard_bounce", "suppressed")
    assert subscriber_status(engine, "nobody.here@example.com") == ("bounced", True)
    assert delivery_status(engine, issue, "nobody.here@example.com") == "bounced"
    assert subscriber_status(engine, "fine@example.com") == ("active", False)
    with engine.connect() as connection:
        rates = return_rates(connection, now + timedelta(hours=1))
    assert (rates.sent, rates.bounced) == (2, 1)
    assert any("bounce rate 50.00%" in w for w in rates.warnings)


def test_a_bounce_without_verp_is_matched_by_its_quoted_message_id(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["former.staff@example.com"])
    mid = message_id(issue, ids["former.staff@example.com"])
    raw = _dsn("outlook_hard.eml", **{"<5e6f708192a3b4c5d6e7f80912233445@digest.example.org>": mid})
    handled = Inbound(engine, settings, clock=lambda: now).handle_message(raw, via="imap")
    assert handled.action == "suppressed"
    assert delivery_status(engine, issue, "former.staff@example.com") == "bounced"


def test_soft_bounces_suppress_only_after_the_limit_within_the_window(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    settings = _verp_settings(settings)
    issue, ids = sent_digest(engine, now, ["full.box@example.net"])
    verp = Verp.from_settings(settings)
    assert verp is not None
    envelope = verp.envelope_sender(issue, ids["full.box@example.net"])
    raw = _dsn(
        "postfix_delayed.eml", **{"bounces+7-43-bbbbbbbbbbbbbbbb@digest.example.org": envelope}
    )
    actions = []
    for day in (0, 1, 20, 21, 22):  # the limit is 3 within 14 days
        at = now + timedelta(days=day)
        inbound = Inbound(engine, settings, clock=partial(_at, at))
        message = raw + f"\n{day}".encode()
        actions.append(inbound.handle_message(message, [envelope], via="smtp").action)
    assert actions == ["counted", "counted", "counted", "counted", "suppressed"]
    assert subscriber_status(engine, "full.box@example.net") == ("bounced", True)


def test_a_complaint_unsubscribes_suppresses_and_marks_complained(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["annoyed.reader@example.net"])
    mid = message_id(issue, ids["annoyed.reader@example.net"])
    raw = _dsn(
        "arf_complaint.eml", **{"<6f708192a3b4c5d6e7f8091223344556@digest.example.org>": mid}
    )
    handled = Inbound(engine, settings, clock=lambda: now).handle_message(raw, via="smtp")
    assert (handled.kind, handled.action) == ("complaint", "unsubscribed")
    assert subscriber_status(engine, "annoyed.reader@example.net") == ("unsubscribed", True)
    assert delivery_status(engine, issue, "annoyed.reader@example.net") == "complained"


def test_a_mailed_unsubscribe_with_our_token_unsubscribes_and_a_forged_one_is_kept(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    _, ids = sent_digest(engine, now, ["reader.one@example.com", "victim@example.com"])
    signer = Signer(settings.web.secret_key.get_secret_value())
    links = SubscriberLinks("https://d.example", signer, ids["reader.one@example.com"], 1, 1, now)
    token = links.unsubscribe.rsplit("/", 1)[-1]
    inbound = Inbound(engine, settings, clock=lambda: now)
    good = inbound.handle_message(_dsn("mailto_unsubscribe.eml", **{"{token}": token}), via="smtp")
    assert (good.action, good.email) == ("unsubscribed", "reader.one@example.com")
    assert subscriber_status(engine, "reader.one@example.com") == ("unsubscribed", False)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = _dsn("mailto_unsubscribe.eml", **{"{token}": forged, "reader.one": "victim"})
    assert inbound.handle_message(bad, via="smtp").action == "kept"
    assert subscriber_status(engine, "victim@example.com") == ("active", False)


def test_an_out_of_office_reply_is_not_a_bounce_and_unknown_mail_is_kept(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    sent_digest(engine, now, ["away.on.leave@example.com"])
    inbound = Inbound(engine, settings, clock=lambda: now)
    ooo = inbound.handle_message((CORPUS / "out_of_office.eml").read_bytes(), via="smtp")
    assert (ooo.kind, ooo.action) == ("auto_reply", "ignored")
    assert subscriber_status(engine, "away.on.leave@example.com") == ("active", False)
    reply = (CORPUS / "human_reply.eml").read_bytes()
    assert inbound.handle_message(reply, via="smtp").action == "kept"
    assert inbound.handle_message(reply, via="smtp").action == "duplicate"  # read twice
    with engine.connect() as connection:
        kept = inbound_store.kept(connection)
    assert len(kept) == 1 and "graph neural networks" in (kept[0].raw or "")


def test_a_bounce_of_a_confirmation_mail_marks_the_pending_signup_only_when_it_is_ours(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    with transaction(engine) as connection:
        for email in ("typo@example.com", "stranger@example.com"):
            store.add(connection, email, now, topics=["graph neural networks"], status="pending")
    confirm = notice(
        "confirm", settings, to="typo@example.com", action_url="https://d.example/c/t", now=now
    )
    inbound = Inbound(engine, settings, clock=lambda: now)
    # the id of the confirmation mailed to typo@, quoted in a bounce that names stranger@
    misused = _dsn(
        "outlook_hard.eml",
        **{
            "<5e6f708192a3b4c5d6e7f80912233445@digest.example.org>": confirm.message_id,
            "former.staff@example.com": "stranger@example.com",
        },
    )
    assert inbound.handle_message(misused, via="smtp").action == "kept"
    assert subscriber_status(engine, "stranger@example.com") == ("pending", False)
    genuine = _dsn(
        "outlook_hard.eml",
        **{
            "<5e6f708192a3b4c5d6e7f80912233445@digest.example.org>": confirm.message_id,
            "former.staff@example.com": "typo@example.com",
        },
    )
    assert inbound.handle_message(genuine, via="smtp").action == "suppressed"
    assert subscriber_status(engine, "typo@example.com") == ("bounced", True)


def test_a_dsn_for_a_delivery_to_an_address_the_subscriber_has_left_is_kept(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["old.address@example.com"])
    sid = ids["old.address@example.com"]
    with transaction(engine) as connection:
        moved = signup.confirm_address_change(
            connection,
            sid,
            1,
            "new.address@example.com",
            now + timedelta(hours=1),
            ip=None,
            user_agent=None,
        )
    assert moved is not None
    raw = _dsn(
        "outlook_hard.eml",
        **{"<5e6f708192a3b4c5d6e7f80912233445@digest.example.org>": message_id(issue, sid)},
    )
    later = Inbound(engine, settings, clock=lambda: now + timedelta(hours=2))
    assert later.handle_message(raw, via="smtp").action == "kept"
    assert subscriber_status(engine, "new.address@example.com") == ("active", False)
