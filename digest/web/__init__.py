"""The web app (`digest serve`): see app.create_app."""

from digest.web.app import create_app
from digest.web.mailer import Mailer, Notice, RecordingMailer

__all__ = ["Mailer", "Notice", "RecordingMailer", "create_app"]
