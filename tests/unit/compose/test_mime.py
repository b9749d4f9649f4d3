"""The hand-built message against what Python's email parser reads back."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from digest.compose import notice
from digest.compose.headers import unstructured
from papercore.errors import InputError
from papercore.papers import Paper
from subscribers.model import Subscriber
from tests.compose_support import (
    HOSTILE_TITLE,
    compose_settings,
    links,
    paper,
    pick,
    prepared,
    subscriber,
)


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def bodies(parsed: EmailMessage) -> tuple[str, str]:
    text, html = parsed.iter_parts()
    return (
        text.get_content().replace("\r\n", "\n"),  # type: ignore[attr-defined]
        html.get_content().replace("\r\n", "\n"),  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("n", [0, 1, 10, 50])
def test_digest_round_trips_through_the_email_parser(n: int) -> None:
    papers = [paper(i, long=n == 50) for i in range(n)]
    if n == 1:
        papers = [paper(1, title=HOSTILE_TITLE + "\r\nBcc: victim@example.com")]
    sub = subscriber()
    link = links(sub)
    out = prepared(papers).message(sub, [pick(p) for p in papers], link)
    parsed = parse(out.data)
    assert not parsed.defects
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert all(not p.defects for p in parsed.iter_parts())
    assert bodies(parsed) == (out.text, out.html)
    assert parsed["Subject"] == out.subject
    assert parsed["To"] == sub.email and parsed["Bcc"] is None
    assert parsed["From"].addresses[0].display_name == "Paper Digest"
    assert parsed["From"].addresses[0].addr_spec == "digest@example.org"
    assert parsed["Message-ID"] == out.message_id
    assert parsed["Date"].datetime == link.now
    assert parsed["List-Id"] == "Paper Digest <paper-digest.example.org>"
    assert parsed["List-Unsubscribe"].startswith(f"<{link.unsubscribe}>, <mailto:")
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Feedback-ID"] == "12:daily:digest:paperdigest"
    assert parsed["MIME-Version"] == "1.0"
    head, _, body = out.data.partition(b"\r\n\r\n")
    assert b"\n" not in out.data.replace(b"\r\n", b"")
    for line in out.data.split(b"\r\n"):
        assert len(line) <= 998
    for line in body.split(b"\r\n"):
        assert len(line) <= 76 or line.startswith(b"--=_pd_")
    for line in head.split(b"\r\n"):
        assert len(line) <= 78 or b"<https://" in line or b"<mailto:" in line  # one URL a line


def test_message_ids_are_deterministic_per_issue_and_subscriber() -> None:
    papers = [paper(1)]
    a, b = subscriber(1), subscriber(2)
    issue = prepared(papers)
    first = issue.message(a, [pick(papers[0])], links(a))
    assert issue.message(a, [pick(papers[0])], links(a)).message_id == first.message_id
    assert issue.message(b, [pick(papers[0])], links(b)).message_id != first.message_id
    assert first.data == issue.message(a, [pick(papers[0])], links(a)).data


def test_subject_is_the_top_pick_without_the_date() -> None:
    p = Paper(id="2611.00001", title="Ünïcode títle ✨ about graphs")
    sub = subscriber()
    out = prepared([p]).message(sub, [pick(p)], links(sub))
    assert out.subject == "Ünïcode títle ✨ about graphs"
    assert parse(out.data)["Subject"] == out.subject
    assert b"=?utf-8?b?" in out.data.split(b"\r\n\r\n")[0]


@pytest.mark.parametrize(
    "value",
    [
        "plain words " * 20,
        "x" * 300,
        "=?utf-8?q?not_an_encoded_word?=",
        "a\r\nBcc: x@y.z",
        "é" * 80,
    ],
)
def test_unstructured_headers_fold_and_cannot_inject(value: str) -> None:
    header = unstructured("Subject", value)
    parsed = parse((header + "\r\n").encode("ascii"))
    assert parsed["Subject"] == " ".join(value.split())
    assert parsed["Bcc"] is None
    assert all(len(line) <= 78 for line in header.split("\r\n"))


def test_display_names_are_quoted_or_encoded() -> None:
    settings = compose_settings(sender={"from_name": 'Dr. "Digest", Ünï'})
    sub = subscriber()
    out = prepared([paper(1)], settings).message(sub, [pick(paper(1))], links(sub))
    assert parse(out.data)["From"].addresses[0].display_name == 'Dr. "Digest", Ünï'


def test_addresses_that_could_inject_headers_are_refused() -> None:
    sub = Subscriber(id=1, email="a@example.com\r\nBcc: b@example.com")
    with pytest.raises(InputError):
        prepared([paper(1)]).message(sub, [pick(paper(1))], links(sub))


@pytest.mark.parametrize("kind", ["confirm", "welcome", "unsubscribed"])
def test_notices_are_complete_messages(kind: str) -> None:
    now = datetime(2026, 11, 21, 9, tzinfo=UTC)
    action = "https://digest.example.org/confirm/tok"
    unsubscribe = "https://digest.example.org/unsubscribe/tok" if kind == "welcome" else None
    out = notice(
        kind,  # type: ignore[arg-type]
        compose_settings(),
        to="new@example.com",
        action_url=action,
        now=now,
        unsubscribe_url=unsubscribe,
    )
    parsed = parse(out.data)
    assert not parsed.defects
    assert bodies(parsed) == (out.text, out.html)
    assert action in out.html and action in out.text
    assert parsed["To"] == "new@example.com" and parsed["Subject"] == out.subject
    assert "Paper Digest" in out.subject
    assert (parsed["List-Unsubscribe"] is not None) == (kind == "welcome")
    assert "1 Example Street" in out.text


def test_welcome_links_to_a_preview_of_the_first_digest() -> None:
    preview = "https://digest.example.org/view/preview-token"
    out = notice(
        "welcome",
        compose_settings(),
        to="new@example.com",
        action_url="https://digest.example.org/preferences/tok",
        now=datetime(2026, 11, 21, 9, tzinfo=UTC),
        unsubscribe_url="https://digest.example.org/unsubscribe/tok",
        preview_url=preview,
    )
    assert f'href="{preview}"' in out.html
    assert f"\n{preview}\n" in out.text
    assert "preview of your first digest" in out.text
