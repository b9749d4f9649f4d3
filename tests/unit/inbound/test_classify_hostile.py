"""Hostile or odd reports (issue 22, outside tester S3): 8-bit header text (RFC 6532/6533
allow UTF-8; compat32 hands such headers over as ``Header`` objects) and deep MIME nesting
(Python's parser recurses per part) are classified or kept, never raised on."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from digest.inbound.classify import MAX_MULTIPARTS, classify
from digest.inbound.sns import SnsCertificates


def _report(action: bytes, feedback: bytes, recipient: bytes) -> bytes:
    return (
        b"From: MAILER-DAEMON@mx.example.net\r\nSubject: r\xc3\xa9port \x1b[31m\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; " + recipient + b"\r\nAction: " + action + b"\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 n\xc3\xa4h " + feedback + b"\r\n\r\n"
        b"--b--\r\n"
    )


@pytest.mark.parametrize(
    ("action", "recipient"),
    [
        (b"failed", "ålice@example.net".encode()),
        (b"f\xc3\xa4iled", b"bob@example.net"),
        (b"failed", b"\xff\xfe@example.net"),
    ],
)
def test_8bit_header_text_is_read_as_text(action: bytes, recipient: bytes) -> None:
    report = classify(_report(action, b"\xe2\x80\x94", recipient))
    assert report.kind in ("hard_bounce", "soft_bounce")
    assert "\x1b" not in report.detail


def test_an_arf_with_an_8bit_feedback_type_is_a_complaint() -> None:
    raw = (
        b"From: fbl@isp.example\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nspam\r\n"
        b"--b\r\nContent-Type: message/feedback-report\r\n\r\n"
        b"Feedback-Type: \xc3\xa4buse\r\nOriginal-Rcpt-To: \xc3\xa5@example.net\r\n\r\n"
        b"--b--\r\n"
    )
    report = classify(raw)
    assert report.kind == "complaint" and "äbuse" in report.detail


@pytest.mark.parametrize("kind", [b"multipart/mixed", b"message/rfc822"])
def test_deep_nesting_is_kept_without_parsing(kind: bytes) -> None:
    depth = 2000
    nested = b"".join(
        b"Content-Type: " + kind + b'; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    raw = b"From: x@example.net\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + nested + b"x\r\n"
    report = classify(raw)
    assert report.kind == "unknown" and "too deeply nested" in report.detail
    assert report.sender == "x@example.net"


def test_nesting_within_the_bound_is_read() -> None:
    depth = MAX_MULTIPARTS - 1
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    raw = b"From: x@example.net\r\nSubject: hello\r\nMIME-Version: 1.0\r\n" + nested + b"x\r\n"
    assert classify(raw).detail == "unrecognised: hello"



def test_the_sns_certificate_cache_keeps_only_the_newest_urls() -> None:
    """Query-string variants of a real certificate URL cannot grow the cache without end: the
    oldest is fetched again, the newest is still served from the cache."""
    served: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        served.append(str(request.url))
        return httpx.Response(200, content=b"-----BEGIN CERTIFICATE-----")

    certificates = SnsCertificates(transport=httpx.MockTransport(answer))
    base = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem"
    urls = [f"{base}?v={n}" for n in range(SnsCertificates.CACHED * 3)]

    async def fetch_all(wanted: list[str]) -> None:
        for url in wanted:
            await certificates.fetch(url)

    asyncio.run(fetch_all(urls))
    assert len(served) == len(urls)
    asyncio.run(fetch_all([urls[-1]]))  # still cached
    assert len(served) == len(urls)
    asyncio.run(fetch_all([urls[0]]))  # long gone: fetched again
    assert served[-1] == urls[0]
