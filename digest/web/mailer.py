"""The port the web app mails through: one notice (confirm, welcome, unsubscribed) at a time.

The app says *what* to tell whom and with which links; the adapter (``notice_mailer``) renders it
with the rendering code and hands it to a sending transport. ``RecordingMailer`` is the fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

NoticeKind = Literal["confirm", "welcome", "unsubscribed", "manage"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice mail. ``links``: confirm → {"confirm"}; welcome → {"preview", "preferences",
    "unsubscribe", "archive"}; unsubscribed → {"signup"}; manage → {"preferences",
    "unsubscribe"}. ``facts``: what else the mail tells them (welcome, manage: "topics", a list,
    and "first_digest", a sentence)."""

    kind: NoticeKind
    to: str
    links: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)


class Mailer(Protocol):
    async def send(self, notice: Notice) -> None:
        """Deliver the notice or raise a DigestError (the web app logs it; pages never show it)."""
        ...


class RecordingMailer:
    """Keeps every notice instead of mailing it (tests, and `digest serve --dev` without SMTP)."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    async def send(self, notice: Notice) -> None:
        self.sent.append(notice)

    def last(self, kind: NoticeKind, to: str | None = None) -> Notice:
        """The newest notice of ``kind`` (to ``to``); AssertionError when there is none."""
        for notice in reversed(self.sent):
            if notice.kind == kind and (to is None or notice.to == to):
                return notice
        raise AssertionError(f"no {kind} notice{f' to {to}' if to else ''} was sent")
