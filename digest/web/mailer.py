"""The port the web app mails through: one notice (confirm, welcome, change of address,
unsubscribed, manage) at a time.

The app says *what* to tell whom and with which links; the adapter (``notice_mailer``) renders it
with the rendering code and hands it to a sending transport (both live in
digest.sending.notice_mail). ``RecordingMailer`` is the fake.
"""

from __future__ import annotations

from digest.sending.notice_mail import Mailer, Notice, NoticeKind

__all__ = ["Mailer", "Notice", "NoticeKind", "RecordingMailer"]


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
