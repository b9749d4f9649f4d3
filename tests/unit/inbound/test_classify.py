"""The fixture corpus: each real-shaped message is classified as a person reading it would."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.inbound.classify import classify

CORPUS = Path(__file__).parents[2] / "fixtures" / "inbound"
TOKEN = "eyJlIjowLCJwIjoidW5zdWJzY3JpYmUiLCJzIjoiNDciLCJ4Ijp7InYiOjF9fQ.AAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.mark.parametrize(
    ("name", "kind", "address"),
    [
        ("postfix_hard.eml", "hard_bounce", "nobody.here@example.com"),
        ("postfix_delayed.eml", "soft_bounce", "full.box@example.net"),
        ("exim_hard.eml", "hard_bounce", "gone.away@example.org"),
        ("exim_plain.eml", "hard_bounce", "old.mailbox@example.net"),
        ("gmail_hard.eml", "hard_bounce", "no.such.user.9@gmail.com"),
        ("outlook_hard.eml", "hard_bounce", "former.staff@example.com"),
        ("exchange_legacy.eml", "hard_bounce", "left.company@corp.example.com"),
        ("arf_complaint.eml", "complaint", "annoyed.reader@example.net"),
        ("mailto_unsubscribe.eml", "unsubscribe", "reader.one@example.com"),
        ("out_of_office.eml", "auto_reply", None),
        ("human_reply.eml", "unknown", None),
    ],
)
def test_each_sample_is_classified(name: str, kind: str, address: str | None) -> None:
    raw = (CORPUS / name).read_bytes().replace(b"{token}", TOKEN.encode())
    report = classify(raw)
    assert report.kind == kind
    assert report.addresses == ((address,) if address else ())
    assert report.detail


def test_a_dsn_names_our_verp_address_and_the_original_message_id() -> None:
    report = classify((CORPUS / "postfix_hard.eml").read_bytes())
    assert "bounces+7-42-aaaaaaaaaaaaaaaa@digest.example.org" in report.verp_candidates
    assert report.message_ids == ("<0f3c1a9e2b7d4c6e8a5b3d1f7e9c2a4b@digest.example.org>",)
    assert "5.1.1" in report.detail


def test_the_envelope_recipient_is_a_verp_candidate() -> None:
    report = classify((CORPUS / "exim_plain.eml").read_bytes(), ["bounces+1-2-x@d.example"])
    assert report.verp_candidates[0] == "bounces+1-2-x@d.example"


def test_a_mailed_unsubscribe_carries_the_token_of_its_subject() -> None:
    raw = (CORPUS / "mailto_unsubscribe.eml").read_bytes().replace(b"{token}", TOKEN.encode())
    assert classify(raw).unsubscribe_tokens == (TOKEN,)


def test_an_unsubscribe_without_any_token_is_left_to_the_operator() -> None:
    raw = (CORPUS / "mailto_unsubscribe.eml").read_bytes().replace(b" {token}", b"")
    assert classify(raw).kind == "unknown"


def test_an_arf_report_carries_the_token_of_the_quoted_list_unsubscribe() -> None:
    report = classify((CORPUS / "arf_complaint.eml").read_bytes())
    assert report.unsubscribe_tokens == (TOKEN,)
    assert report.message_ids == ("<6f708192a3b4c5d6e7f8091223344556@digest.example.org>",)


def test_garbage_is_unknown_not_an_error() -> None:
    assert classify(b"\x00\xff not a message at all").kind == "unknown"
