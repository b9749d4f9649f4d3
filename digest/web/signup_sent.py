"""The "check your inbox" page a signup redirects to (Post/Redirect/Get): a refresh or "back"
shows it again and never sends the signup, or its mail, twice."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.web.state import Web, web_of

SENT_COOKIE = "digest_signup_sent"
SENT_TTL = 3600


def sent_redirect(
    web: Web, secure: bool, email: str, seeded: str = "", missing: tuple[str, ...] = ()
) -> Response:
    """Post/Redirect/Get: a 303 to the "check your inbox" page, so that a refresh or "back"
    shows that page again instead of sending the signup (and its mail) twice. What the page
    repeats (the address, the papers found) rides in a short-lived signed cookie, not the URL."""
    lines = list(missing)
    while True:
        token = web.signer.make(
            "signup-sent",
            "page",
            now=web.clock(),
            ttl_seconds=SENT_TTL,
            extra={"e": email, "s": seeded, "m": lines},
        )
        if len(token) <= 2000 or not lines:
            break
        lines = lines[: len(lines) // 2]  # a cookie holds 4 KB: the page shows fewer lines
    response = RedirectResponse("/signup/sent", 303)  # relative: the host they posted to
    response.set_cookie(
        SENT_COOKIE,
        token,
        max_age=SENT_TTL,
        path="/signup/sent",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


def https(request: Request) -> bool:
    return request.url.scheme == "https"


async def signup_sent(request: Request) -> Response:
    """The page a signup redirects to: where the link went (refreshing it sends nothing)."""
    web = web_of(request)
    claims = web.claims(request.cookies.get(SENT_COOKIE, ""), "signup-sent")
    extra = claims.extra if claims is not None else {}
    missing = extra.get("m")
    return web.page(
        "signup_sent.html",
        email=str(extra.get("e", "")),
        seeded=str(extra.get("s", "")),
        missing=[str(m) for m in missing] if isinstance(missing, list) else [],
    )


routes = [Route("/signup/sent", signup_sent, methods=["GET"])]
