"""Rendered documents cut into reusable pieces: static text, named slots and named regions.

A template is rendered (and, for HTML, compiled by MJML) once per issue with *marks* in it:
``slot("more")`` where a per-subscriber value goes, ``region("card")`` around a part that is
repeated, chosen or dropped per subscriber. ``parse`` cuts the result into a tree of ``Static``,
``Slot`` and ``Region``; an ``Assembly`` then concatenates pieces per subscriber without
rendering anything again. Each ``Static`` carries its UTF-8 size and its quoted-printable
encoding, made once, so that a message body is assembled from ready bytes (see ``mime.py``).
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from markupsafe import Markup

_SOFT_BREAK = b"=\r\n"
_NAME = re.compile(r"^[a-z_]+$")


_QP_LINE = 75  # characters before a soft break ("=" makes the line 76 long)


def qp_chunk(text: str) -> bytes:
    """``text`` quoted-printable encoded (CRLF line ends) so that it can be followed by any
    other chunk: it ends with a hard or a soft line break, so the next starts at column 0."""
    if not text:
        return b""
    plain = text.isascii() and text.isprintable() and " " not in text and "=" not in text
    if plain and text != ".":  # a lone dot is the one such line b2a_qp escapes
        return _qp_plain(text)
    return _qp_general(text)


def _qp_general(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\n", "\r\n").encode("utf-8"), istext=True)
    if "\n" not in text and b"\n" in encoded:  # b2a_qp soft-breaks with a bare LF then
        encoded = encoded.replace(b"\n", b"\r\n")
    if encoded.endswith(b"\r\n"):
        return encoded
    start = encoded.rfind(b"\n") + 1
    if len(encoded) - start >= 76:  # the soft break's "=" would make the line 77 long
        cut = len(encoded) - 2
        while encoded[cut - 2 : cut - 1] == b"=" or encoded[cut - 1 : cut] == b"=":
            cut -= 1  # never split an =XX escape
        encoded = encoded[:cut] + _SOFT_BREAK + encoded[cut:]
    return encoded + _SOFT_BREAK


def _qp_plain(text: str) -> bytes:
    """``qp_chunk`` of one line that needs no escapes (printable ASCII, no space, no "="; a
    link, a token), cut into soft-broken lines exactly as the general path cuts it."""
    if len(text) <= _QP_LINE:
        return text.encode("ascii") + _SOFT_BREAK
    lines = [text[i : i + _QP_LINE] for i in range(0, len(text), _QP_LINE)]
    if len(lines[-1]) == 1:  # b2a_qp lets a last line reach 76; the soft break then cuts at 74
        lines[-2:] = [lines[-2][:-1], lines[-2][-1] + lines[-1]]
    return "=\r\n".join(lines).encode("ascii") + _SOFT_BREAK


@dataclass(frozen=True, slots=True)
class Static:
    text: str
    size: int  # UTF-8 bytes
    qp: bytes

    @classmethod
    def of(cls, text: str) -> Static:
        return cls(text, len(text.encode("utf-8")), qp_chunk(text))


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    indent: int  # column the slot starts at (text documents wrap values to fit)


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    parts: tuple[Part, ...]
    size: int  # UTF-8 bytes of the static parts (slot values come on top)
    _flat: dict[frozenset[str], Flat] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, name: str, parts: tuple[Part, ...]) -> Region:
        size = sum(p.size for p in parts if not isinstance(p, Slot))
        return cls(name, parts, size)

    def flat(self, drop: frozenset[str]) -> Flat:
        """The region's parts without the regions in ``drop``, nested regions opened and
        neighbouring static text merged; worked out once per ``drop``."""
        found = self._flat.get(drop)
        if found is None:
            found = self._flat[drop] = Flat.of(flatten(self.parts, drop))
        return found


@dataclass(frozen=True, slots=True)
class Flat:
    """A region's parts with its dropped regions left out (``Region.flat``). ``size`` is the
    UTF-8 bytes of its static text; ``steps`` are the parts again as (a slot or None, the static
    text after it, that text's quoted-printable form), the shape ``Assembly.add`` walks."""

    parts: tuple[Static | Slot, ...]
    size: int
    steps: tuple[tuple[Slot | None, str, bytes], ...]

    @classmethod
    def of(cls, parts: tuple[Static | Slot, ...]) -> Flat:
        steps: list[tuple[Slot | None, str, bytes]] = []
        slot: Slot | None = None
        for part in parts:
            if isinstance(part, Slot):
                if slot is not None:
                    steps.append((slot, "", b""))
                slot = part
            else:
                steps.append((slot, part.text, part.qp))
                slot = None
        if slot is not None:
            steps.append((slot, "", b""))
        size = sum(p.size for p in parts if isinstance(p, Static))
        return cls(parts, size, tuple(steps))


def flatten(parts: Iterable[Part], drop: frozenset[str]) -> tuple[Static | Slot, ...]:
    out: list[Static | Slot] = []
    text: list[str] = []

    def walk(items: Iterable[Part]) -> None:
        for part in items:
            if isinstance(part, Static):
                text.append(part.text)
            elif isinstance(part, Slot):
                if text:
                    out.append(Static.of("".join(text)))
                    text.clear()
                out.append(part)
            elif part.name not in drop:
                walk(part.parts)

    walk(parts)
    if text:
        out.append(Static.of("".join(text)))
    return tuple(out)


Part = Static | Slot | Region


class Marks:
    """The marks one Composer puts into templates. A random nonce per Composer means no paper
    text can forge a mark."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(6)
        self._pattern = re.compile(rf"(?:<!--)?PD{self.nonce}([BES])([a-z_]+)PD(?:-->)?")

    def _token(self, kind: str, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"mark names are lower-case letters and _: {name!r}")
        return f"PD{self.nonce}{kind}{name}PD"

    def slot(self, name: str) -> Markup:
        return Markup(self._token("S", name))

    def region(self, name: str, caller: Callable[[], str]) -> Markup:
        """For ``{% call region("name") %}...{% endcall %}`` in text templates."""
        return Markup(self._token("B", name) + "\n" + caller() + self._token("E", name) + "\n")

    def mj_region(self, name: str, caller: Callable[[], str]) -> Markup:
        """For ``{% call mj_region("name") %}...{% endcall %}`` in MJML templates."""
        return Markup(
            f"<mj-raw><!--{self._token('B', name)}--></mj-raw>\n"
            f"{caller()}<mj-raw><!--{self._token('E', name)}--></mj-raw>\n"
        )

    def html_region(self, name: str, caller: Callable[[], str]) -> Markup:
        """For ``{% call html_region("name") %}...{% endcall %}`` inside an ``mj-text``: the
        marks are HTML comments that MJML keeps, so a region costs no extra table markup."""
        return Markup(f"<!--{self._token('B', name)}-->{caller()}<!--{self._token('E', name)}-->")

    def strip(self, document: str) -> str:
        """The document with every mark removed (for validating what a person would see)."""
        return self._pattern.sub("", document)

    def parse(self, document: str, *, text: bool = False) -> tuple[Part, ...]:
        """Cut a rendered document into parts. In text documents a region mark takes its line
        break with it."""
        document = document.replace("\r\n", "\n")
        stack: list[tuple[str, list[Part]]] = [("", [])]
        position = 0
        pending = ""
        tail = ""  # the current line so far, for the column of a slot
        for match in self._pattern.finditer(document):
            before = document[position : match.start()]
            pending += before
            tail = before[before.rfind("\n") + 1 :] if "\n" in before else tail + before
            position = match.end()
            kind, name = match.group(1), match.group(2)
            if text and kind in "BE" and document.startswith("\n", position):
                position += 1
            if kind == "S":
                _flush(stack[-1][1], pending)
                stack[-1][1].append(Slot(name, len(tail)))
                pending = ""
            elif kind == "B":
                _flush(stack[-1][1], pending)
                pending = ""
                stack.append((name, []))
            else:
                _flush(stack[-1][1], pending)
                pending = ""
                opened, parts = stack.pop()
                if opened != name or not stack:
                    raise ValueError(f"region {name!r} closed but {opened!r} is open")
                stack[-1][1].append(Region.of(name, tuple(parts)))
        _flush(stack[-1][1], pending + document[position:])
        if len(stack) != 1:
            raise ValueError(f"region {stack[-1][0]!r} is never closed")
        return tuple(stack[0][1])


def _flush(parts: list[Part], text: str) -> None:
    if text:
        parts.append(Static.of(text))


def regions(parts: Iterable[Part], name: str) -> list[Region]:
    """Every top-level region called ``name``, in order."""
    return [p for p in parts if isinstance(p, Region) and p.name == name]


Formatter = Callable[[Slot, str], str]


class Assembly:
    """One document being put together: its text, its quoted-printable bytes and its size.
    Assemblies of one message may share ``encoded`` (a value's quoted-printable form), since
    the text and HTML parts carry the same links."""

    __slots__ = ("encoded", "format", "qp", "size", "text")

    def __init__(self, format: Formatter | None, encoded: dict[str, bytes] | None = None) -> None:
        """``format`` turns a slot's value into what is inserted (None: the value as it is)."""
        self.format = format
        self.encoded = {} if encoded is None else encoded
        self.text: list[str] = []
        self.qp: list[bytes] = []
        self.size = 0

    def add(self, flat: Flat, values: dict[str, str]) -> None:
        """Append a region's flattened parts (see ``Region.flat``), filling slots from
        ``values``; missing values leave the slot empty."""
        text, qp, encoded, format = self.text, self.qp, self.encoded, self.format
        size = self.size + flat.size
        for slot, static, static_qp in flat.steps:
            if slot is not None:
                raw = values.get(slot.name)
                if raw:
                    formatted = raw if format is None else format(slot, raw)
                    text.append(formatted)
                    chunk = encoded.get(formatted)
                    if chunk is None:
                        chunk = encoded[formatted] = qp_chunk(formatted)
                    qp.append(chunk)
                    size += (
                        len(formatted) if formatted.isascii() else len(formatted.encode("utf-8"))
                    )
            if static:
                text.append(static)
                qp.append(static_qp)
        self.size = size
