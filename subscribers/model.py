"""Subscribers and their interests, and validation of what people type in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from papercore.errors import InputError
from papercore.text import clean_text

Status = Literal["pending", "active", "paused", "unsubscribed", "bounced"]
Frequency = Literal["daily", "weekly", "feed"]
InterestKind = Literal["topic", "author", "mute"]
STATUSES: tuple[Status, ...] = ("pending", "active", "paused", "unsubscribed", "bounced")
# "feed": no mail; the daily issue's picks go to the subscriber's Atom feed only
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "feed")
FREQUENCY_LABELS = {"daily": "Daily", "weekly": "Weekly", "feed": "Feed only (no email)"}
MAX_PHRASE = 200
MAX_INTERESTS = 50


@dataclass(frozen=True, slots=True)
class Interest:
    kind: InterestKind
    phrase: str
    weight: float = 1.0


PRIVATE_PREFIX = "seed:"  # the id of a private example: "seed:" + its row id


@dataclass(frozen=True, slots=True)
class SeedText:
    """A paper someone's list liked that no source has given us: the title, abstract and
    authors their list said. Kept with that subscriber only, never in the paper store."""

    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    arxiv: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """A paper the subscriber marked "more like this" (vote +1) or "less like this" (vote -1),
    and when; the ranker learns from these (typed topics are never changed by a click).
    ``seed`` is set for a private example (``paper_id`` is then ``seed:<n>``, in no store)."""

    paper_id: str
    vote: int
    at: datetime
    seed: SeedText | None = None


def is_private(paper_id: str) -> bool:
    """Whether an example id names a private example rather than a stored paper."""
    return paper_id.startswith(PRIVATE_PREFIX)


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    name: str = ""
    status: Status = "active"
    frequency: Frequency = "daily"
    weekday: int = 0
    hour: int = 8
    timezone: str = "UTC"
    interests: tuple[Interest, ...] = field(default=())
    token_version: int = 1
    feed_version: int = 1  # carried in the feed URL's token; bumping it revokes the old URL
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    last_digest_at: datetime | None = None
    examples: tuple[Example, ...] = field(default=())

    def phrases(self, kind: InterestKind) -> tuple[str, ...]:
        return tuple(i.phrase for i in self.interests if i.kind == kind)

    @property
    def mailed(self) -> bool:
        """Whether their digest comes by mail (not "feed only")."""
        return self.frequency != "feed"

    @property
    def issue_frequency(self) -> Literal["daily", "weekly"]:
        """The issue whose picks they get: a "feed only" subscriber is ranked with the daily one."""
        return "weekly" if self.frequency == "weekly" else "daily"

    @property
    def topics(self) -> tuple[str, ...]:
        return self.phrases("topic")

    @property
    def authors(self) -> tuple[str, ...]:
        return self.phrases("author")

    @property
    def mutes(self) -> tuple[str, ...]:
        return self.phrases("mute")


def normalise_email(raw: str) -> str:
    """A validated address, lower-cased, with no display name or surrounding space.
    No DNS lookups. Raises InputError naming the problem."""
    candidate = raw.strip()
    if any(ch in candidate for ch in "\r\n\x00"):
        raise InputError(f"invalid email address {raw[:80]!r}: contains a line break")
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"invalid email address {candidate[:80]!r}: {exc}") from exc
    if valid.ascii_email is None:  # a non-ASCII local part needs SMTPUTF8 end to end
        raise InputError(
            f"email address {candidate[:80]!r} has non-ASCII characters before the @, which "
            "cannot be mailed reliably; please use an address with ASCII letters only"
        )
    return valid.ascii_email.lower()  # an international domain in its xn-- (IDNA) form


def email_hash(address: str) -> str:
    """The suppression-list key: sha256 of the normalised address."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


PHRASE_SEPARATOR = ";"  # separates topics in the CSV format: never inside one


def clean_phrase(raw: str, what: str = "topic") -> str:
    """One interest phrase: control characters and ';' (the topics separator) refused, then
    the one text cleaner (``papercore.text.clean_text``: noncharacters and invisible characters
    removed, whitespace collapsed), length capped."""
    phrase = " ".join(raw.split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in phrase):
        raise InputError(f"{what} {phrase[:40]!r} contains control characters")
    phrase = clean_text(phrase)
    if not phrase:
        raise InputError(f"empty {what}")
    if len(phrase) > MAX_PHRASE:
        raise InputError(f"{what} is {len(phrase)} characters long; the limit is {MAX_PHRASE}")
    if PHRASE_SEPARATOR in phrase:  # stored and exported lists are joined with it
        raise InputError(f"{what} {phrase[:40]!r} contains ';': give each {what} on its own")
    return phrase


def _visible(raw: str) -> bool:
    """Whether anything of ``raw`` is left to see (a control character is: it is refused)."""
    return bool(clean_text(raw)) or any(ord(ch) < 32 or ord(ch) == 127 for ch in raw.strip())


def clean_phrases(raw: list[str] | tuple[str, ...], what: str = "topic") -> tuple[str, ...]:
    phrases = tuple(dict.fromkeys(clean_phrase(p, what) for p in raw if p.strip() and _visible(p)))
    if len(phrases) > MAX_INTERESTS:
        raise InputError(f"{len(phrases)} {what}s; the limit is {MAX_INTERESTS}")
    return phrases


MAX_TIMEZONE = 64


def check_timezone(name: str) -> str:
    """``name`` when it is an IANA time zone; InputError otherwise (never another exception)."""
    unknown = InputError(f"unknown time zone {name[:64]!r} (use an IANA name such as Europe/Paris)")
    if len(name) > MAX_TIMEZONE or not name.isascii() or not name.isprintable():
        raise unknown
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: odd file names
        raise unknown from exc
    return name


def check_hour(hour: int) -> int:
    if not 0 <= hour <= 23:
        raise InputError(f"delivery hour {hour} is not between 0 and 23")
    return hour


def check_frequency(value: str) -> Frequency:
    if value not in FREQUENCIES:
        raise InputError(f"frequency {value[:20]!r} is not one of {', '.join(FREQUENCIES)}")
    return value
