"""Keyed Message-IDs: the id of each message we send is an HMAC with a key derived from the web
secret, so nobody without the secret can compute the id of anyone's mail, and a report that
quotes one (a bounce, an ARF complaint, a provider webhook) proves that it is about a message we
sent.

- a digest: ``<{mac(issue:subscriber)}@domain>``, the same for every attempt and resume of one
  delivery (the ledger records it when the message is claimed);
- a notice (confirm, welcome, ...): ``<n{stamp}.{mac(stamp:address)}@domain>``, unique per
  notice (``stamp`` is a hash of its kind, link and time) and checkable against the address it
  was sent to without storing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from digest.compose.headers import check_address, domain_of
from papercore.config import Settings

_NOTICE = re.compile(r"^<n([0-9a-f]{16})\.([0-9a-f]{32})@[^<>@\s]+>$")


class MessageIds:
    """Makes and checks the Message-IDs of one configuration (secret and sender domain)."""

    def __init__(self, secret: str, domain: str) -> None:
        self.domain = domain
        self._key = hashlib.sha256(b"paper-digest message-id\0" + secret.encode("utf-8")).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageIds:
        """The ids of this configuration: keyed by ``web.secret_key``, on the From domain."""
        domain = domain_of(check_address(settings.sender.from_address))
        return cls(settings.web.secret_key.get_secret_value(), domain)

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def digest(self, issue_id: int, subscriber_id: int) -> str:
        """The Message-ID of one delivery of a digest (deterministic: resends keep it)."""
        return f"<{self._mac(f'digest:{issue_id}:{subscriber_id}')}@{self.domain}>"

    def is_digest(self, message_id: str, issue_id: int, subscriber_id: int) -> bool:
        """Whether ``message_id`` is the one we give that delivery."""
        return hmac.compare_digest(
            message_id.strip().lower(), self.digest(issue_id, subscriber_id).lower()
        )

    def notice(self, address: str, *parts: object) -> str:
        """The Message-ID of one notice to ``address``; ``parts`` make it unique."""
        stamp = hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]
        return f"<n{stamp}.{self._mac(f'notice:{stamp}:{address.lower()}')}@{self.domain}>"

    def is_notice_to(self, message_id: str, address: str) -> bool:
        """Whether ``message_id`` is one we gave a notice mailed to ``address``."""
        found = _NOTICE.match(message_id.strip().lower())
        if found is None:
            return False
        expected = self._mac(f"notice:{found.group(1)}:{address.lower()}")
        return hmac.compare_digest(found.group(2), expected)
