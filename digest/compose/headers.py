"""Message headers, written by hand for speed: folded at 78 columns, RFC 2047 encoded words
for anything that is not plain ASCII, and no way for a value to start a header of its own."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from email.utils import format_datetime

from papercore.errors import InputError

LIMIT = 78
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")  # safe unquoted in a display name
_ADDRESS = re.compile(r"^[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+$")
_WORD_BYTES = 39  # UTF-8 bytes per encoded word: "Subject: =?utf-8?b?<52 chars>?=" fits 78


def one_line(value: str) -> str:
    """``value`` without line breaks or control characters, whitespace collapsed."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def _needs_encoding(value: str) -> bool:
    return not value.isascii() or "=?" in value


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 B-encoded words of at most 75 characters, never splitting a character."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for ch in value:
        width = len(ch.encode("utf-8"))
        if size + width > _WORD_BYTES:
            words.append("".join(chunk))
            chunk = []
            size = 0
        chunk.append(ch)
        size += width
    if chunk:
        words.append("".join(chunk))
    return [
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    ]


def fold(name: str, tokens: list[str], separator: str = " ") -> str:
    """``Name: token token ...`` folded before a token when a line would pass 78 columns."""
    lines: list[str] = []
    line = name + ":"
    for index, token in enumerate(tokens):
        piece = (separator if index else " ") + token
        if index and len(line) + len(piece) > LIMIT:
            lines.append(line + separator.rstrip())
            line = " " + token
        else:
            line += piece
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def unstructured(name: str, value: str) -> str:
    """A free-text header such as Subject, safely encoded and folded."""
    value = one_line(value)
    if _needs_encoding(value) or any(len(word) > LIMIT - len(name) - 2 for word in value.split()):
        return fold(name, _encoded_words(value))
    return fold(name, value.split(" ") if value else [""])


def check_address(address: str) -> str:
    """A bare address that is safe to put in a header; raises InputError otherwise."""
    if not _ADDRESS.match(address) or not address.isascii():
        raise InputError(f"cannot put {address[:80]!r} in a mail header")
    return address


def mailbox(name: str, address: str) -> str:
    """``Display Name <address>``, the name quoted or encoded as needed."""
    check_address(address)
    name = one_line(name)
    if not name:
        return address
    if _needs_encoding(name):
        return " ".join(_encoded_words(name)) + f" <{address}>"
    if _ATOM.match(name):
        return f"{name} <{address}>"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def address_header(name: str, display: str, address: str) -> str:
    value = mailbox(display, address)
    if len(name) + 2 + len(value) <= LIMIT:
        return f"{name}: {value}\r\n"
    return fold(name, value.split(" "))


def date_header(moment: datetime) -> str:
    return f"Date: {format_datetime(moment)}\r\n"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1]


def list_unsubscribe(url: str, mailto: str, token: str) -> str:
    """RFC 2369 List-Unsubscribe and RFC 8058 one-click: the URL only when it is https (one-click
    requires it; `digest send` refuses http outside --dev), the mailto only when configured (an
    address nobody reads is not advertised). Nothing at all when neither applies."""
    targets = []
    one_click = url.startswith("https://")
    if one_click:
        targets.append(f"<{one_line(url)}>")
    if mailto.strip():
        targets.append(f"<mailto:{check_address(mailto.strip())}?subject=unsubscribe%20{token}>")
    if not targets:
        return ""
    header = fold("List-Unsubscribe", targets, separator=", ")
    return header + ("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" if one_click else "")
