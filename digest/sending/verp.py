"""VERP envelope senders: ``bounces+<issue>-<subscriber>-<mac>@domain``, so that a bounce mailed
back to the envelope sender names its delivery without guessing from the bounce's text.

The token is short, lower-case and made only of ``[0-9a-z-]`` (MTAs may fold the case of a local
part, and a local part holds at most 64 characters). The MAC is an HMAC-SHA256 over the issue
and subscriber ids with a key derived from the web secret, cut to 80 bits and written in base32.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from papercore.config import Settings

_TOKEN = re.compile(r"^([0-9]{1,18})-([0-9]{1,18})-([a-z2-7]{16})$")


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    """The (issue, subscriber) pair a VERP token names."""

    issue_id: int
    subscriber_id: int


class Verp:
    """Makes and reads VERP envelope senders for one ``bounces@domain`` address."""

    def __init__(self, address: str, secret: str) -> None:
        local, _, domain = address.partition("@")
        if not local or not domain or "+" in local:
            raise ValueError(f"sender.verp_address {address!r} must look like bounces@example.org")
        self.local = local
        self.domain = domain
        self._key = hashlib.sha256(b"paper-digest verp\0" + secret.encode("utf-8")).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> Verp | None:
        """The VERP codec the settings ask for; None when ``sender.verp_address`` is empty."""
        address = settings.sender.verp_address.strip()
        if not address:
            return None
        return cls(address, settings.web.secret_key.get_secret_value())

    def _mac(self, issue_id: int, subscriber_id: int) -> str:
        digest = hmac.new(self._key, f"{issue_id}:{subscriber_id}".encode(), hashlib.sha256)
        return base64.b32encode(digest.digest()[:10]).decode("ascii").lower()

    def token(self, issue_id: int, subscriber_id: int) -> str:
        """The signed token for one delivery."""
        return f"{issue_id}-{subscriber_id}-{self._mac(issue_id, subscriber_id)}"

    def envelope_sender(self, issue_id: int, subscriber_id: int) -> str:
        """The MAIL FROM address of one delivery."""
        return f"{self.local}+{self.token(issue_id, subscriber_id)}@{self.domain}"

    def read_token(self, token: str) -> DeliveryRef | None:
        """The delivery a token names; None when it is malformed or its MAC is wrong."""
        found = _TOKEN.match(token.strip().lower())
        if found is None:
            return None
        issue_id, subscriber_id = int(found.group(1)), int(found.group(2))
        if not hmac.compare_digest(found.group(3), self._mac(issue_id, subscriber_id)):
            return None
        return DeliveryRef(issue_id, subscriber_id)

    def read_address(self, address: str) -> DeliveryRef | None:
        """The delivery an address ``<local>+<token>@<domain>`` names (any local part and domain,
        since forwarding may rewrite them); None when it carries no valid token."""
        local = address.strip().strip("<>").rpartition("@")[0]
        _, plus, token = local.partition("+")
        return self.read_token(token) if plus else None
