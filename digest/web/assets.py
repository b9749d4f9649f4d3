"""The pages' CSS and scripts: served cacheable, linked with a content hash so that a changed
file is fetched again at once (everything else the app serves stays ``no-store``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

A_YEAR = "public, max-age=31536000, immutable"
AN_HOUR = "public, max-age=3600"


def asset_url(static_dir: Path) -> Callable[[str], str]:
    """``asset(name)`` for templates: ``/static/<name>?v=<first 10 hex of its sha256>``."""

    @cache
    def asset(name: str) -> str:
        path = static_dir / name
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
        return f"/static/{name}?v={version}"

    return asset


class CachedStatic(StaticFiles):
    """Static files with a Cache-Control: a year for a versioned link (``?v=``), else an hour."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = A_YEAR if versioned else AN_HOUR
        return response
