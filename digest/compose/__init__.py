"""Rendering: MJML + Jinja2 templates to complete, personalised email messages.

``Composer(settings).prepare(issue, papers)`` renders what an issue shares once;
``PreparedIssue.message(subscriber, picks, links)`` assembles one subscriber's message.
"""

from digest.compose.digest import Composer, IssueInfo, PreparedIssue
from digest.compose.mime import OutgoingMessage
from digest.compose.notices import NoticeKind, notice

__all__ = ["Composer", "IssueInfo", "NoticeKind", "OutgoingMessage", "PreparedIssue", "notice"]
