"""Anyone can mail the bounce address: what is kept for the operator is bounded (issue 22,
outside tester P1: 6 connections made 4,258 kept events of up to 1 MB each in 25 s). Repeats
count up on one kept message, one sender cannot fill the list, the list has a cap with the
oldest pruned, and each kept message stores only the head of its text."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from digest.inbound import store as inbound_store
from digest.inbound.kept import KEPT_PER_SENDER, KEPT_REPEAT_WINDOW
from digest.inbound.process import Inbound
from papercore.config import Settings


def _mail(sender: str, subject: str, n: int, body: str = "hello") -> bytes:
    return (
        f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <{n}@example.net>\r\n\r\n{body}\r\n"
    ).encode()


def _kept(engine: Engine) -> list[inbound_store.InboundEvent]:
    with engine.connect() as connection:
        return inbound_store.kept(connection, 100_000)


def test_the_same_message_again_counts_up_on_one_kept_message(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    inbound = Inbound(engine, settings, clock=lambda: now)
    for n in range(25):
        handled = inbound.handle_message(_mail("x@example.net", "hi there", n), via="smtp")
        assert handled.action == "kept"
    [only] = _kept(engine)
    assert only.repeats == 25
    later = Inbound(engine, settings, clock=lambda: now + KEPT_REPEAT_WINDOW + timedelta(1))
    later.handle_message(_mail("x@example.net", "hi there", 99), via="smtp")
    assert [k.repeats for k in _kept(engine)] == [1, 25]  # a day later it is news again


def test_one_sender_cannot_fill_the_kept_list(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    inbound = Inbound(engine, settings, clock=lambda: now)
    for n in range(KEPT_PER_SENDER + 30):
        inbound.handle_message(_mail("flood@example.net", f"subject {n}", n), via="smtp")
    inbound.handle_message(_mail("mta@example.org", "a real report", 1000), via="smtp")
    kept = _kept(engine)
    assert len(kept) == KEPT_PER_SENDER + 1
    assert kept[0].detail.endswith("a real report")
    assert sum(k.repeats for k in kept) == KEPT_PER_SENDER + 31


def test_the_kept_list_is_capped_and_the_oldest_go(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    capped = settings.model_copy(
        update={"inbound": settings.inbound.model_copy(update={"kept_max": 100})}
    )
    inbound = Inbound(engine, capped, clock=lambda: now)
    for n in range(130):
        inbound.handle_message(_mail(f"s{n}@example.net", f"subject {n}", n), via="smtp")
    kept = _kept(engine)
    assert len(kept) == 100
    assert kept[0].detail.endswith("subject 129") and kept[-1].detail.endswith("subject 30")


def test_a_kept_message_stores_only_its_head(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    big = _mail("x@example.net", "big", 1, body="a" * 1_000_000)
    Inbound(engine, settings, clock=lambda: now).handle_message(big, via="smtp")
    [kept] = _kept(engine)
    assert kept.raw is not None
    assert len(kept.raw) < settings.inbound.keep_bytes + 200
    assert kept.raw.startswith("From: x@example.net")
    assert kept.raw.endswith("more bytes not kept (inbound.keep_bytes)]")
