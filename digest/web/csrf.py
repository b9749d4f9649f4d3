"""CSRF protection for forms: a random browser cookie, and a signed form token bound to it.

The form token also carries when the form was shown, which the signup page uses as its
minimum-fill-time check. The RFC 8058 one-click POST is the one form without it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from subscribers.tokens import BadToken, Signer

COOKIE = "digest_csrf"
FIELD = "csrf_token"
TTL_SECONDS = 6 * 3600


class Csrf:
    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def browser_id(self, request: Request) -> str:
        """The browser's CSRF cookie value, or a new one (``remember`` sets it on the response)."""
        value = request.cookies.get(COOKIE, "")
        if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
            return value
        return secrets.token_urlsafe(24)

    def token(self, browser_id: str, now: datetime) -> str:
        return self.signer.make(
            "csrf", browser_id, now=now, ttl_seconds=TTL_SECONDS, extra={"t": int(now.timestamp())}
        )

    def remember(self, request: Request, response: Response, browser_id: str) -> None:
        if request.cookies.get(COOKIE) != browser_id:
            response.set_cookie(
                COOKIE,
                browser_id,
                max_age=TTL_SECONDS,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )

    def check(self, request: Request, form: Mapping[str, object], now: datetime) -> int:
        """Verify the form token against the cookie; returns when the form was shown (unix
        seconds). Raises BadToken when it is missing, forged, expired or for another browser."""
        token = form.get(FIELD)
        cookie = request.cookies.get(COOKIE)
        if not isinstance(token, str) or not token or not cookie:
            raise BadToken("missing CSRF token")
        claims = self.signer.read(token, "csrf", now=now)
        if not hmac.compare_digest(claims.subject, cookie):
            raise BadToken("CSRF token made for another browser")
        return int(claims.extra.get("t", 0))
