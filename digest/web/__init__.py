"""The web app (`digest serve`): see app.create_app; it mails through
``digest.sending.notice_mail`` (``Mailer``, ``RecordingMailer`` for tests)."""

from digest.web.app import create_app

__all__ = ["create_app"]
