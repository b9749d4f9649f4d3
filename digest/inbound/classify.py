"""Classifying a message that came back to us (pure: bytes in, ``Report`` out).

In order: an RFC 5965 ARF feedback report is a complaint; an RFC 3464 delivery status
notification is a hard bounce when a recipient failed with a 5.x.x status, else a soft one; a
message whose subject asks to unsubscribe with a token is an unsubscribe; an automatic reply
goes through GNU Mailman's ``flufl.bounce`` detectors for the non-standard bounce formats
(Exim, qmail, Exchange, ...); what they do not recognise and is an automatic reply (RFC 3834
``Auto-Submitted``, out-of-office subjects) is only an auto-reply, never a bounce; the rest is
``unknown``.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote

from flufl.bounce import all_failures

from digest.inbound.report import Report

_HEADER_ADDRESSES = ("to", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")
_UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*(?:re:\s*)?unsubscribe\b", re.IGNORECASE)
# Our signed tokens: base64url payload "." base64url MAC (subscribers.tokens)
_TOKEN = re.compile(r"\b([A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})\b")
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|"
    r"abwesenheit|absence|r[ée]ponse automatique|vacation)",
    re.IGNORECASE,
)
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_DETAIL_LIMIT = 300
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Python's parser recurses once per nested part: a message with more than this many multipart or
# message/* parts is not parsed as MIME (only its headers are read) and is kept for the operator.
MAX_MULTIPARTS = 64
_MULTIPART = re.compile(rb"content-type:\s*(?:multipart|message)/", re.IGNORECASE)


def parse(raw: bytes) -> Message:
    """The message, parsed leniently (the compat32 policy ``flufl.bounce`` expects)."""
    return email.message_from_bytes(raw)


def classify(raw: bytes, envelope_recipients: Sequence[str] = ()) -> Report:
    """What ``raw`` (a complete RFC 5322 message) tells about our mail. ``envelope_recipients``
    are the RCPT TO addresses it arrived for, when known (they carry the VERP token).
    Raises only on a bug; the caller keeps such a message (``Inbound.handle_message``)."""
    return replace(_classify(raw, envelope_recipients), sender=sender_of(raw))


def sender_of(raw: bytes) -> str:
    """The From address of ``raw`` (lower-case), or "" when it has none we can read."""
    try:
        headers = BytesHeaderParser().parsebytes(raw)
        return parseaddr(_header(headers, "from"))[1].lower()[:320]
    except Exception:  # whatever the headers hold, this is only a label
        return ""


def _classify(raw: bytes, envelope_recipients: Sequence[str]) -> Report:
    if len(_MULTIPART.findall(raw)) > MAX_MULTIPARTS:
        headers = BytesHeaderParser().parsebytes(raw)
        return Report(
            "unknown",
            detail=_one_line(
                f"too deeply nested to read ({MAX_MULTIPARTS}+ parts): {_subject(headers)}"
            ),
            verp_candidates=_verp_candidates(headers, envelope_recipients),
        )
    message = parse(raw)
    candidates = _verp_candidates(message, envelope_recipients)
    report = _feedback_report(message, candidates)
    if report is None:
        report = _delivery_status(message, candidates)
    if report is None:
        report = _mailed_unsubscribe(message, candidates)
    if report is None:
        report = _other_bounce_format(message, candidates)
    if report is None and _is_auto_reply(message):
        report = Report("auto_reply", detail=_one_line(f"automatic reply: {_subject(message)}"))
    return report or Report(
        "unknown",
        detail=_one_line(f"unrecognised: {_subject(message)}"),
        verp_candidates=candidates,
    )


def _feedback_report(message: Message, candidates: tuple[str, ...]) -> Report | None:
    if not _is_report(message, "feedback-report"):
        return None
    fields = _first_block(message, "message/feedback-report")
    original = _original_headers(message)
    addresses = _addresses(
        [_header(fields, "original-rcpt-to")] if fields is not None else []
    ) or _addresses([_header(original, "to")] if original is not None else [])
    feedback_type = (
        (_header(fields, "feedback-type") or "abuse") if fields is not None else "abuse"
    ).strip()
    return Report(
        "complaint",
        addresses=addresses,
        detail=_one_line(f"ARF feedback report ({feedback_type})"),
        verp_candidates=candidates + _original_return_path(original),
        message_ids=_message_ids(original),
        unsubscribe_tokens=_list_unsubscribe_tokens(original),
    )


def _delivery_status(message: Message, candidates: tuple[str, ...]) -> Report | None:
    if not _is_report(message, "delivery-status"):
        return None
    hard: list[str] = []
    soft: list[str] = []
    details: list[str] = []
    for block in _blocks(message, "message/delivery-status")[1:]:  # the first is per message
        action = _header(block, "action").strip().lower()
        status = _header(block, "status").strip()
        recipient = _header(block, "original-recipient") or _header(block, "final-recipient")
        address = recipient.rpartition(";")[2].strip().strip("<>").lower()
        if not address or action.startswith(("delivered", "relayed", "expanded")):
            continue
        diagnostic = _header(block, "diagnostic-code").rpartition(";")[2].strip()
        if action.startswith(("fail", "error")) and status.startswith("5"):
            hard.append(address)
        else:
            soft.append(address)
        details.append(f"{address}: {action or '?'} {status} {diagnostic}".strip())
    if not hard and not soft:
        return None
    original = _original_headers(message)
    return Report(
        "hard_bounce" if hard else "soft_bounce",
        addresses=tuple(dict.fromkeys(hard or soft)),
        detail=_one_line("; ".join(details)),
        verp_candidates=candidates + _original_return_path(original),
        message_ids=_message_ids(original),
    )


def _mailed_unsubscribe(message: Message, candidates: tuple[str, ...]) -> Report | None:
    subject = _subject(message)
    if not _UNSUBSCRIBE_SUBJECT.match(subject):
        return None
    tokens = tuple(_TOKEN.findall(subject))
    if not tokens and not any("+" in c.partition("@")[0] for c in candidates):
        return None  # no token: anyone can write "unsubscribe", so the operator decides
    sender = parseaddr(_header(message, "from"))[1].lower()
    return Report(
        "unsubscribe",
        addresses=(sender,) if sender else (),
        detail=_one_line(f"mailed unsubscribe from {sender or 'an unknown sender'}"),
        verp_candidates=candidates,
        unsubscribe_tokens=tokens,
    )


def _is_auto_reply(message: Message) -> bool:
    auto = _header(message, "auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if any(
        _header(message, h) for h in ("x-autoreply", "x-autorespond", "x-auto-response-suppress")
    ):
        return True
    if _header(message, "precedence").strip().lower() == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.match(_subject(message)))


def _other_bounce_format(message: Message, candidates: tuple[str, ...]) -> Report | None:
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripping over odd input: the message is kept as unknown
        return None
    if not temporary and not permanent:
        return None
    found = permanent or temporary
    addresses = tuple(sorted(a.decode("ascii", "replace").lower() for a in found))
    text = _plain_text(message)
    code = _STATUS.search(text)
    return Report(
        "hard_bounce" if permanent else "soft_bounce",
        addresses=addresses,
        detail=_one_line(
            f"{', '.join(addresses)}: {'permanent' if permanent else 'temporary'} failure"
            + (f" {code.group(0)}" if code else "")
        ),
        verp_candidates=candidates,
        message_ids=_message_ids(_original_headers(message)),
    )


# reading the parts


def _is_report(message: Message, report_type: str) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == report_type
    )


def _blocks(message: Message, content_type: str) -> list[Message]:
    """The header blocks of the first ``content_type`` part (delivery-status has several)."""
    for part in message.walk():
        if part.get_content_type() != content_type:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return [p for p in payload if isinstance(p, Message)]
        text = payload if isinstance(payload, str) else ""
        return [HeaderParser().parsestr(chunk + "\n") for chunk in re.split(r"\r?\n\r?\n", text)]
    return []


def _first_block(message: Message, content_type: str) -> Message | None:
    blocks = _blocks(message, content_type)
    return blocks[0] if blocks else None


def _original_headers(message: Message) -> Message | None:
    """The headers of our original message when the report quotes it."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            return HeaderParser().parsestr(
                text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            )
    return None


def _message_ids(original: Message | None) -> tuple[str, ...]:
    if original is None:
        return ()
    found = _header(original, "message-id").strip()
    return (found,) if found.startswith("<") and found.endswith(">") else ()


def _original_return_path(original: Message | None) -> tuple[str, ...]:
    if original is None:
        return ()
    return _addresses([_header(original, "return-path")])


def _list_unsubscribe_tokens(original: Message | None) -> tuple[str, ...]:
    if original is None:
        return ()
    header = unquote(_header(original, "list-unsubscribe"))
    return tuple(dict.fromkeys(_TOKEN.findall(header)))


def _verp_candidates(message: Message, envelope: Sequence[str]) -> tuple[str, ...]:
    headers = [_text(v) for h in _HEADER_ADDRESSES for v in message.get_all(h, [])]
    return tuple(dict.fromkeys(_addresses(envelope) + _addresses(headers)))


def _addresses(values: Iterable[str]) -> tuple[str, ...]:
    found = [a.strip().strip("<>").lower() for _, a in getaddresses(list(values))]
    return tuple(dict.fromkeys(a for a in found if "@" in a))


def _subject(message: Message) -> str:
    raw = _header(message, "subject")
    try:
        decoded = str(make_header(decode_header(raw)))
    except (ValueError, LookupError, HeaderParseError):
        decoded = str(raw)
    return _one_line(decoded)


def _plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode("utf-8", "replace")
    return ""


def _header(message: Message, name: str) -> str:
    """A header's text, always a ``str`` (compat32 gives a ``Header`` for 8-bit text)."""
    return _text(message.get(name, ""))


def _text(value: object) -> str:
    if isinstance(value, Header):  # raw 8-bit bytes, read as UTF-8 (RFC 6532)
        return "".join(
            part.decode("utf-8", "replace") if isinstance(part, bytes) else part
            for part, _ in decode_header(value)
        )
    return str(value)


def _one_line(text: str) -> str:
    """One line of at most _DETAIL_LIMIT characters, without control characters (C0, DEL, C1):
    a stranger's text may be shown on the operator's terminal."""
    return " ".join(_CONTROLS.sub(" ", text).split())[:_DETAIL_LIMIT]
