"""Reading the signup and preferences forms into validated requests, with one message per field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from starlette.datastructures import FormData

from papercore.errors import DigestError, InputError
from papercore.text import clean_block
from subscribers.model import (
    PHRASE_SEPARATOR,
    check_frequency,
    check_hour,
    clean_phrases,
    normalise_email,
)
from subscribers.paper_list import PaperList, read_paper_list
from subscribers.preferences import PreferenceChange
from subscribers.signup import SignupRequest
from subscribers.zones import AmbiguousZone, resolve_zone

T = TypeVar("T")
NONE: tuple[str, ...] = ()
SEPARATORS = re.compile(r"[\n;,]")
MAX_FIELD = 20_000


class FormErrors(InputError):
    """The form has problems; ``fields`` maps each field name to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


def text(form: FormData, name: str) -> str:
    """The field's text, cut at MAX_FIELD (for fields that are never shown back), through text
    hygiene (``papercore.text.clean_block``: what XML cannot carry is removed, line breaks stay
    for lists)."""
    value = form.get(name, "")
    return clean_block(value[:MAX_FIELD]) if isinstance(value, str) else ""


def typed(form: FormData, name: str) -> str:
    """The field's text whole; InputError when it is longer than MAX_FIELD. Never cut: a cut
    list would lose what came after the cut without a word."""
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    if len(value) > MAX_FIELD:
        raise InputError(f"this is {len(value):,} characters long; the limit is {MAX_FIELD:,}")
    return clean_block(value)


def phrases(
    form: FormData, name: str, what: str, extra: list[str] | None = None
) -> tuple[str, ...]:
    """A textarea of phrases, one per line (commas and semicolons also separate), and the
    ticked suggestions ``extra``: one phrase each (line breaks folded), but split on ';', the
    topics separator, which no phrase may hold (a posted value is anyone's text)."""
    raw = [p.replace("\r", "") for p in SEPARATORS.split(typed(form, name))]
    ticked = [p for value in extra or [] for p in value.split(PHRASE_SEPARATOR)]
    return clean_phrases(raw + ticked, what)


def seed_list(pasted: str, uploaded: str = "") -> PaperList:
    """The papers of a pasted list and an uploaded file, each read on its own (so each counts
    its own lines); InputError when they name none."""
    listed = read_paper_list(pasted, "the pasted text") + read_paper_list(
        uploaded, "the uploaded file"
    )
    if not listed.cited and not listed.unreadable:
        raise InputError("paste or upload papers: arXiv ids, titles, BibTeX or a Zotero CSV")
    return listed


def _integer(value: str, low: int, high: int, what: str) -> int:
    digits = value.strip()
    # ASCII digits only: "²".isdigit() is True but int("²") raises
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 6) or not (
        low <= int(digits) <= high
    ):
        raise InputError(f"{what} must be a whole number from {low} to {high}")
    return int(digits)


# What a person reads next to a schedule field they got wrong (the list gives the valid choices).
PLAIN_WORDS = {
    "frequency": "Choose daily or weekly.",
    "weekday": "Choose a day of the week from the list.",
    "hour": "Choose an hour from the list.",
    "timezone": "We do not know this time zone. Start typing a city, e.g. Paris, and pick it.",
}


def in_plain_words(name: str, message: str) -> str:
    """The message shown next to field ``name``: plain words for a schedule field, and an
    address's problem without the library's "invalid email address '…':" preamble."""
    if name in PLAIN_WORDS:
        return PLAIN_WORDS[name]
    if message.startswith("invalid email address") and ": " in message:
        reason = message.split("': ", 1)[-1].rstrip(".")
        return f"Please check your email address. {reason[:1].upper()}{reason[1:]}."
    return message[:1].upper() + message[1:]


class _Reader:
    def __init__(self, form: FormData) -> None:
        self.form = form
        self.errors: dict[str, str] = {}

    def field(self, name: str, read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except AmbiguousZone as exc:  # its message lists the zones to choose from
            self.errors[name] = exc.one_line()
            return default
        except DigestError as exc:
            self.errors[name] = in_plain_words(name, exc.one_line())
            return default

    def done(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def _schedule(r: _Reader) -> tuple[str, int, int, str]:
    form = r.form
    frequency = r.field("frequency", lambda: check_frequency(text(form, "frequency")), "daily")
    weekday = r.field("weekday", lambda: _integer(text(form, "weekday") or "0", 0, 6, "weekday"), 0)
    hour = r.field(
        "hour", lambda: check_hour(_integer(text(form, "hour"), 0, 23, "delivery hour")), 8
    )
    timezone = r.field(
        "timezone", lambda: resolve_zone(typed(form, "timezone").strip() or "UTC"), "UTC"
    )
    return frequency, weekday, hour, timezone


def read_signup(form: FormData) -> SignupRequest:
    r = _Reader(form)
    email = r.field("email", lambda: normalise_email(typed(form, "email")), "")
    suggested = [v for v in form.getlist("suggested") if isinstance(v, str)][:50]
    topics = r.field("topics", lambda: phrases(form, "topics", "topic", suggested), NONE)
    papers = r.field("papers", lambda: read_paper_list(typed(form, "papers")), PaperList(()))
    frequency, weekday, hour, timezone = _schedule(r)
    r.done()
    return SignupRequest(
        email, topics, check_frequency(frequency), weekday, hour, timezone, papers=papers
    )


def read_preferences(form: FormData, current_email: str) -> PreferenceChange:
    r = _Reader(form)
    suggested = [v for v in form.getlist("suggested") if isinstance(v, str)][:50]
    topics = r.field("topics", lambda: phrases(form, "topics", "topic", suggested), NONE)
    authors = r.field("authors", lambda: phrases(form, "authors", "author"), NONE)
    mutes = r.field("mutes", lambda: phrases(form, "mutes", "muted phrase"), NONE)
    frequency, weekday, hour, timezone = _schedule(r)
    raw_email = r.field("email", lambda: typed(form, "email").strip(), "")
    new_email = None
    if raw_email:
        address = r.field("email", lambda: normalise_email(raw_email), current_email)
        new_email = address if address != current_email else None
    r.done()
    return PreferenceChange(
        topics=topics,
        authors=authors,
        mutes=mutes,
        frequency=check_frequency(frequency),
        weekday=weekday,
        hour=hour,
        timezone=timezone,
        paused=form.get("paused") == "yes",
        new_email=new_email,
    )
