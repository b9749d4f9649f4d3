"""The URLs that mail and pages link to, each carrying a signed token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from subscribers.tokens import Signer

CONFIRM_TTL_DAYS = 7


@dataclass(frozen=True, slots=True)
class SubscriberLinks:
    """Per-subscriber links for one issue. Tokens carry the subscriber's token_version so that
    bumping it (e.g. after an address change) revokes every link already mailed."""

    base_url: str
    signer: Signer
    subscriber_id: int
    token_version: int
    issue_id: int | None
    now: datetime

    def _token(self, purpose: str, extra: dict[str, object] | None = None) -> str:
        data: dict[str, object] = {"v": self.token_version}
        if extra:
            data.update(extra)
        return self.signer.make(purpose, self.subscriber_id, now=self.now, extra=data)

    @property
    def unsubscribe(self) -> str:
        return f"{self.base_url}/unsubscribe/{self._token('unsubscribe')}"

    @property
    def preferences(self) -> str:
        return f"{self.base_url}/preferences/{self._token('preferences')}"

    @property
    def view_in_browser(self) -> str:
        return f"{self.base_url}/view/{self._token('view', {'i': self.issue_id})}"

    @property
    def archive(self) -> str:
        return f"{self.base_url}/archive"

    def feedback(self, paper_id: str, more: bool) -> str:
        """The "more like this" (more=True) or "less like this" link for a paper in this issue: a
        page that records the click with a POST (a GET records nothing: mail scanners fetch it)."""
        extra: dict[str, object] = {"paper": paper_id, "d": 1 if more else -1, "i": self.issue_id}
        token = self._token("feedback", extra)
        return f"{self.base_url}/feedback/{token}"


def confirm_link(
    base_url: str, signer: Signer, subscriber_id: int, token_version: int, now: datetime
) -> str:
    """The double opt-in link, valid for CONFIRM_TTL_DAYS."""
    token = signer.make(
        "confirm",
        subscriber_id,
        now=now,
        ttl_seconds=CONFIRM_TTL_DAYS * 86400,
        extra={"v": token_version},
    )
    return f"{base_url}/confirm/{token}"


def issue_link(base_url: str, issue_id: int) -> str:
    return f"{base_url}/issue/{issue_id}"


def feed_link(
    base_url: str, signer: Signer, subscriber_id: int, feed_version: int, now: datetime
) -> str:
    """The subscriber's Atom feed URL: a "feed" token that never expires and names their
    feed_version, so that a new feed URL (a bumped version) revokes every older one."""
    token = signer.make("feed", subscriber_id, now=now, extra={"f": feed_version})
    return f"{base_url}/feed/{token}.atom"
