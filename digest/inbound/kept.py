"""What is kept of a message nobody could classify or prove ours (pure): the head of its
text, and the fingerprints by which repeats count up on one kept message (``Inbound``)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

# A kept message like one kept within this window (same kind, sender and detail) counts up on
# that one instead of adding a row; so does any from a sender who has KEPT_PER_SENDER kept in
# the window already. Anyone can mail the bounce address: a flood is one row per kind of
# message and a few per sender, not thousands burying the reports the operator must read.
KEPT_REPEAT_WINDOW = timedelta(days=1)
KEPT_PER_SENDER = 20


def fingerprints(kind: str, sender: str, detail: str) -> tuple[str, str]:
    """What makes two kept messages repeats (kind, sender, and what is kept as their detail:
    the subject, or the addresses a report names and why it was not acted on), and the
    sender's own key."""
    same = "\0".join((kind, sender, detail))
    return (
        hashlib.sha256(same.encode()).hexdigest(),
        hashlib.sha256(sender.encode()).hexdigest(),
    )


def kept_text(raw: bytes, limit: int) -> str:
    """The head of a kept message, at most ``limit`` bytes, saying when the rest was cut."""
    text = raw[:limit].decode("utf-8", "replace")
    if len(raw) <= limit:
        return text
    return f"{text}\n[... {len(raw) - limit} more bytes not kept (inbound.keep_bytes)]"
