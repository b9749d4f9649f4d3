"""Signed tokens for links in mail and on pages: HMAC-SHA256 over purpose, subject and expiry.

A token is ``base64url(payload) + "." + base64url(mac)`` where payload is compact JSON
``{"p": purpose, "s": subject, "e": expiry (unix seconds, or 0 for none), "x": extra}``.
The MAC key is derived from the configured secret and the purpose, so a token made for one
purpose is useless for any other even before its payload is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from papercore.config import WebSettings
from papercore.errors import DigestError

PURPOSES = (
    "confirm",
    "unsubscribe",
    "preferences",
    "feedback",
    "view",
    "csrf",
    "feed",
    "link-form",  # the "send me a new link" form on a dead link's page
    "signup-sent",  # the "check your inbox" page a signup redirects to
)


class BadToken(DigestError):
    """A token that is malformed, forged, expired or made for another purpose."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class Claims:
    purpose: str
    subject: str
    expires: int
    extra: dict[str, Any] = field(default_factory=dict)


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


class _NotSimple(Exception):
    pass


@lru_cache(maxsize=8192, typed=True)
def _scalar(value: Any) -> str:
    """JSON of an int or a plain ASCII string (no quote, backslash or control character);
    anything else raises _NotSimple. Cached: tokens repeat the same few values (purposes,
    versions, issue and paper ids); ``typed`` keeps ``True`` apart from ``1``."""
    kind = type(value)
    if kind is int:
        return str(value)
    plain = kind is str and value.isascii() and value.isprintable()
    if plain and '"' not in value and "\\" not in value:
        return f'"{value}"'
    raise _NotSimple


@lru_cache(maxsize=256)
def _key_order(keys: tuple[Any, ...]) -> tuple[tuple[Any, str], ...]:
    """``keys`` in sorted order, each with its JSON; only string keys are simple."""
    if any(type(k) is not str for k in keys):
        raise _NotSimple
    return tuple((k, _scalar(k)) for k in sorted(keys))


def _body_json(purpose: str, subject: str | int, expires: int, extra: dict[str, Any] | None) -> str:
    """The token body ``{"e", "p", "s"[, "x"]}`` as compact, key-sorted JSON, byte-identical to
    ``json.dumps(body, separators=(",", ":"), sort_keys=True)`` but written directly when every
    value is an int or a plain ASCII string (a digest makes ~25 tokens per subscriber); other
    bodies go through the json module."""
    try:
        text = f'"{subject}"' if type(subject) is int else _scalar(subject)
        head = f'{{"e":{expires},"p":{_scalar(purpose)},"s":{text}'
        if not extra:
            return head + "}"
        order = _key_order(tuple(extra))
        items = ",".join([f"{name}:{_scalar(extra[k])}" for k, name in order])
    except (_NotSimple, TypeError):  # TypeError: an unhashable value, such as a list
        body: dict[str, Any] = {"p": purpose, "s": str(subject), "e": expires}
        if extra:
            body["x"] = extra
        return _COMPACT_JSON.encode(body)
    return f'{head},"x":{{{items}}}}}'


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the HMAC inner and outer pads (RFC 2104), so that a MAC costs two
    state copies instead of a fresh ``hmac.new``. Keys here are 32-byte digests (< block)."""
    block = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer


def _mac(pads: tuple[Any, Any], message: bytes) -> bytes:
    inner, outer = pads[0].copy(), pads[1].copy()
    inner.update(message)
    outer.update(inner.digest())
    return outer.digest()


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _unb64(text: str) -> bytes:
    """Strict unpadded base64url: any other character, padding, an impossible length or unused
    low bits set raise ValueError, so that each value has exactly one spelling."""
    if len(text) % 4 == 1 or _B64URL.fullmatch(text) is None:
        raise ValueError("not canonical base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # the last character carried bits that do not belong to the value
        raise ValueError("not canonical base64url")
    return data


class Signer:
    """Makes and checks tokens with one secret. Keys per purpose are derived once."""

    def __init__(self, secret: str, ttls: Mapping[str, int] | None = None) -> None:
        """``ttls``: seconds a purpose's tokens live when ``make`` is given no ttl of its own."""
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 characters")
        root = hashlib.sha256(secret.encode("utf-8")).digest()
        self._keys = {p: hmac.new(root, p.encode(), hashlib.sha256).digest() for p in PURPOSES}
        self._pads = {p: _hmac_pads(key) for p, key in self._keys.items()}
        self._ttls = dict(ttls or {})

    @classmethod
    def from_settings(cls, web: WebSettings) -> Signer:
        """The app's signer: ``[web] secret_key``; preferences links, in every digest, expire
        after ``[web] preferences_token_days`` (an old mail's link then offers a new one)."""
        days = {"preferences": web.preferences_token_days * 86400}
        return cls(web.secret_key.get_secret_value(), ttls=days)

    def make(
        self,
        purpose: str,
        subject: str | int,
        *,
        now: datetime,
        ttl_seconds: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A token for ``purpose`` about ``subject``; without ttl it lives as long as the
        signer's ttl for the purpose, and without that it does not expire."""
        pads = self._pads[purpose]
        ttl_seconds = ttl_seconds or self._ttls.get(purpose)
        expires = int(now.timestamp()) + ttl_seconds if ttl_seconds else 0
        payload = _b64(_body_json(purpose, subject, expires, extra).encode("utf-8"))
        mac = _mac(pads, payload.encode("ascii"))[:18]
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
