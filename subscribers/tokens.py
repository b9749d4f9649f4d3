"""Signed tokens for links in mail and on pages: HMAC-SHA256 over purpose, subject and expiry.

A token is ``base64url(payload) + "." + base64url(mac)`` where payload is compact JSON
``{"p": purpose, "s": subject, "e": expiry (unix seconds, or 0 for none), "x": extra}``.
The MAC key is derived from the configured secret and the purpose, so a token made for one
purpose is useless for any other even before its payload is read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digest.errors import DigestError

PURPOSES = ("confirm", "unsubscribe", "preferences", "feedback", "view", "csrf")


class BadToken(DigestError):
    """A token that is malformed, forged, expired or made for another purpose."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class Claims:
    purpose: str
    subject: str
    expires: int
    extra: dict[str, Any] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Makes and checks tokens with one secret. Keys per purpose are derived once."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 characters")
        root = hashlib.sha256(secret.encode("utf-8")).digest()
        self._keys = {p: hmac.new(root, p.encode(), hashlib.sha256).digest() for p in PURPOSES}

    def make(
        self,
        purpose: str,
        subject: str | int,
        *,
        now: datetime,
        ttl_seconds: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A token for ``purpose`` about ``subject``; without ttl it does not expire."""
        key = self._keys[purpose]
        expires = int(now.timestamp()) + ttl_seconds if ttl_seconds else 0
        body: dict[str, Any] = {"p": purpose, "s": str(subject), "e": expires}
        if extra:
            body["x"] = extra
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:18]
        return f"{payload}.{_b64(mac)}"

    def read(self, token: str, purpose: str, *, now: datetime) -> Claims:
        """The claims of a valid token for ``purpose``; raises BadToken otherwise."""
        if purpose not in self._keys:
            raise BadToken(f"unknown token purpose {purpose!r}")
        if len(token) > 2048 or token.count(".") != 1:
            raise BadToken("malformed token")
        payload, mac_text = token.split(".")
        try:
            mac = _unb64(mac_text)
            expected = hmac.new(self._keys[purpose], payload.encode("ascii"), hashlib.sha256)
        except (ValueError, UnicodeEncodeError) as exc:
            raise BadToken("malformed token") from exc
        if not hmac.compare_digest(mac, expected.digest()[:18]):
            raise BadToken("invalid token signature (forged, or made for another purpose)")
        try:
            body = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadToken("malformed token") from exc
        if body.get("p") != purpose:
            raise BadToken("token made for another purpose")
        expires = int(body.get("e", 0))
        if expires and now.timestamp() > expires:
            raise BadToken("token expired")
        return Claims(purpose, str(body.get("s", "")), expires, dict(body.get("x") or {}))
