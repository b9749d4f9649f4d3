"""One subscriber's digest, built one way for everyone who shows it.

``PersonalDigests.build(engine, settings, issue, now)`` gathers, once per issue, the candidate
pool (``pool``), the ranker over it and the rendered cards; ``picks`` and ``message`` then
answer per subscriber. The send factory, ``digest preview``, the operator preview, the web
``/view/`` page and ``digest rank --subscriber`` all use it, so a preview shows what a send with
the same issue and ``now`` will send.
"""

from digest.personal.builder import IssueDigests, PersonalDigests, index_papers
from digest.personal.pool import LOOKBACK_DAYS, NewPapers, issue_papers
from digest.personal.preview import Preview, next_issue, preview_digest, preview_subscriber

__all__ = [
    "LOOKBACK_DAYS",
    "IssueDigests",
    "NewPapers",
    "PersonalDigests",
    "Preview",
    "index_papers",
    "issue_papers",
    "next_issue",
    "preview_digest",
    "preview_subscriber",
]
