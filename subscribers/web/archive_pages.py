"""The archive: /archive lists past issues, /issue/<n> shows one (generic), /view/<token> shows a
subscriber's own copy."""

from __future__ import annotations

from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.db.schema import issues
from digest.issues import Issue, get_issue
from subscribers.web.state import Web, web_of

PUBLISHED = ("sending", "done")


def published_issues(connection: Connection, limit: int = 200) -> list[Issue]:
    ids = connection.execute(
        select(issues.c.id)
        .where(issues.c.status.in_(PUBLISHED))
        .order_by(issues.c.id.desc())
        .limit(limit)
    )
    return [get_issue(connection, int(i)) for (i,) in ids]


async def archive(request: Request) -> Response:
    web = web_of(request)

    def load() -> list[Issue]:
        with web.engine.connect() as connection:
            return published_issues(connection)

    response = web.page("archive.html", issues=await run_in_threadpool(load))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _not_found(web: Web) -> Response:
    return web.message("Not found", "There is no such issue.", 404)


routes = [Route("/archive", archive, methods=["GET"])]
