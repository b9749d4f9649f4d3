"""DKIM signing of prepared messages (dkimpy): a DKIM-Signature header prepended to the bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim

from papercore.config import DkimSettings
from papercore.errors import ConfigError

# Everything a receiver shows or acts on; List-Unsubscribe(-Post) must be covered (RFC 8058).
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"Feedback-ID",
    b"Reply-To",
    b"MIME-Version",
    b"Content-Type",
)


@dataclass(frozen=True)
class DkimSigner:
    selector: bytes
    domain: bytes
    private_key: bytes

    @classmethod
    def from_settings(cls, settings: DkimSettings) -> DkimSigner | None:
        """The signer the configuration asks for, or None when DKIM is disabled."""
        if not settings.enabled:
            return None
        if settings.key_path is None or not settings.selector or not settings.domain:
            raise ConfigError(["dkim: enabled needs key_path, selector and domain"])
        try:
            key = Path(settings.key_path).read_bytes()
        except OSError as exc:
            raise ConfigError([f"dkim.key_path: cannot read {settings.key_path}: {exc}"]) from exc
        return cls(settings.selector.encode(), settings.domain.encode(), key)

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header in front (relaxed/relaxed, rsa-sha256)."""
        try:
            header = dkim.sign(
                message,
                self.selector,
                self.domain,
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(SIGNED_HEADERS),
            )
        except dkim.DKIMException as exc:
            raise ConfigError([f"dkim: cannot sign with the configured key: {exc}"]) from exc
        return header + message
