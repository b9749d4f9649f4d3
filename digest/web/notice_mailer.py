"""The real Mailer the web app mails through (it lives in digest.sending.notice_mail, so that the
scheduler and ``digest worker`` can drain the outbox with it too)."""

from __future__ import annotations

from digest.sending.notice_mail import NoticeMailer

__all__ = ["NoticeMailer"]
