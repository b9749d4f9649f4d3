"""What a validly signed but outdated link of a subscriber's says: they unsubscribed (on which
day), mail to them bounced, or the link was replaced by a newer one. A forged or expired link
learns nothing: it gets the generic dead-link page."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from digest.web.state import Web
from subscribers.link_request import Standing, standing


async def stale_link(web: Web, token: str, purpose: str) -> Response:
    """The page for a subscriber's link that no longer works. Only a token we signed (and that
    has not expired) says where its subscriber stands; anything else gets the generic page."""
    claims = web.claims(token, purpose)
    if claims is None or not claims.subject.isdigit():
        return web.bad_link()
    subscriber_id = int(claims.subject)

    def load() -> Standing | None:
        with web.engine.connect() as connection:
            return standing(connection, subscriber_id)

    found = await run_in_threadpool(load)
    if found is None:
        return web.bad_link()
    return standing_page(web, found, 400)


def standing_page(web: Web, found: Standing, status_code: int = 200) -> Response:
    """What a subscriber's own (but outdated) link tells them about where they stand."""
    when = f" on {_day(found.since)}" if found.since is not None else ""
    if found.status == "unsubscribed":
        return web.message(
            "You unsubscribed",
            f"You unsubscribed{when}, so this link no longer works and no digests come. "
            "Subscribe again?",
            status_code,
            link="/",
            link_text="Subscribe again",
        )
    if found.status == "bounced":
        return web.message(
            "Mail to you stopped",
            f"Mail to your address bounced{when}, so we stopped sending and this link no "
            "longer works. Subscribe again?",
            status_code,
            link="/",
            link_text="Subscribe again",
        )
    if found.status == "pending":
        return web.message(
            "This link was replaced",
            "You signed up again and have not confirmed yet: please click the confirmation "
            "link in your most recent email, or get a new one below.",
            status_code,
            new_link=True,
        )
    return web.message(
        "This link was replaced",
        "A newer email has a newer link (your address or subscription changed since this one "
        "was sent). Please use the link in your most recent email, or get a new one below.",
        status_code,
        new_link=True,
    )


def _day(at: datetime) -> str:
    return f"{at:%A %-d %B %Y}"
