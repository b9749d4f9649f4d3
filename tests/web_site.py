"""A web app wired for tests: in-process client, recording mailer, a clock the test moves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import unescape

from sqlalchemy import Engine
from starlette.testclient import TestClient

from digest.sending.notice_mail import RecordingMailer
from digest.web import create_app
from papercore.config import Settings


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Site:
    settings: Settings
    engine: Engine
    clock: Clock
    mailer: RecordingMailer = field(default_factory=RecordingMailer)
    client: TestClient = field(init=False)

    def __post_init__(self) -> None:
        app = create_app(self.settings, self.engine, self.mailer, clock=self.clock)
        self.client = TestClient(app, base_url="http://testserver")

    def new_browser(self) -> TestClient:
        """Another browser (own cookies) on the same app."""
        return TestClient(self.client.app, base_url="http://testserver")

    def form_fields(self, path: str, client: TestClient | None = None) -> dict[str, str]:
        """GET a page and return its form's hidden fields (the CSRF token)."""
        page = (client or self.client).get(path)
        assert page.status_code == 200, page.text
        return hidden_fields(page.text)

    def signup(
        self,
        email: str = "ada@example.org",
        *,
        wait: float = 10,
        client: TestClient | None = None,
        **fields: str | list[str],
    ) -> tuple[int, str]:
        """Fill in and send the signup form like a person who takes ``wait`` seconds."""
        browser = client or self.client
        data: dict[str, str | list[str]] = self.form_fields("/", browser) | {
            "email": email,
            "topics": "graph neural networks\ndiffusion models",
            "frequency": "daily",
            "weekday": "0",
            "hour": "7",
            "timezone": "Europe/Paris",
            "website": "",
        }
        data |= fields
        self.clock.advance(wait)
        response = browser.post("/", data=data)
        return response.status_code, response.text

    def path_of(self, url: str) -> str:
        assert url.startswith(self.settings.app.base_url), url
        return url.removeprefix(self.settings.app.base_url) or "/"

    def confirm(self, url: str, client: TestClient | None = None) -> tuple[int, str]:
        browser = client or self.client
        path = self.path_of(url)
        fields = self.form_fields(path, browser)
        response = browser.post(path, data=fields)
        return response.status_code, response.text


def hidden_fields(html: str) -> dict[str, str]:
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    }
