"""The one error path: any exception a handler lets escape becomes a styled 500 page that names an
error id, with that id and the traceback in the log (the security headers wrap this middleware)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("digest.web")


class ErrorPage:
    """Turn an unexpected exception into ``render(error_id)`` (a 500 response) unless the response
    has already started, in which case the connection is closed as it must be."""

    def __init__(self, app: ASGIApp, render: Callable[[str], Response]) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            error_id = secrets.token_hex(6)
            log.exception("error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            try:
                response = self.render(error_id)
            except Exception:  # the styled page itself failed (a broken template): plain text
                log.exception("error %s: the error page could not be rendered", error_id)
                response = PlainTextResponse(f"Something went wrong (error {error_id}).", 500)
            await response(scope, receive, send)
