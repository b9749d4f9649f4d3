"""What came back, in one shape for mail and webhooks alike: a ``Report`` says what kind of
event it is, which recipients it is about, and every clue that can name the delivery (VERP
addresses, the original Message-ID, the unsubscribe token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["hard_bounce", "soft_bounce", "complaint", "unsubscribe", "auto_reply", "unknown"]
KINDS: tuple[Kind, ...] = (
    "hard_bounce",
    "soft_bounce",
    "complaint",
    "unsubscribe",
    "auto_reply",
    "unknown",
)


@dataclass(frozen=True, slots=True)
class Report:
    """One event about our mail: a bounce, complaint, unsubscribe, auto-reply or unknown.

    ``addresses`` are the recipients it is about (lower-case); ``verp_candidates`` are addresses
    that may carry our VERP token (the envelope and To addresses of a bounce);
    ``message_ids`` the Message-IDs of our original message when it is quoted;
    ``unsubscribe_tokens`` the signed tokens a mailed unsubscribe carries; ``provider_ids``
    the provider's own ids of the message (what its relay answered when it took the message);
    ``detail`` one line for people (status code, diagnostic); ``sender`` the From address
    of a report that came by mail (repeats of a kept message are counted by it)."""

    kind: Kind
    addresses: tuple[str, ...] = ()
    detail: str = ""
    verp_candidates: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    unsubscribe_tokens: tuple[str, ...] = ()
    provider_ids: tuple[str, ...] = ()
    sender: str = ""
