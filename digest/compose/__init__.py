"""Rendering: MJML + Jinja2 templates to complete, personalised email messages.

``Composer(settings).prepare(issue, papers)`` renders what an issue shares once;
``PreparedIssue.plan(subscriber, picks)`` lays a subscriber's digest out (order, headings,
reasons: a ``plan.DigestPlan``) and ``render(subscriber, plan, links)`` makes it a message;
``message`` does both. The web view renders a recorded plan with the same ``render``.
"""

from digest.compose.digest import Composer, IssueInfo, PreparedIssue
from digest.compose.mime import OutgoingMessage
from digest.compose.notices import NoticeKind, notice

__all__ = ["Composer", "IssueInfo", "NoticeKind", "OutgoingMessage", "PreparedIssue", "notice"]
