"""The whole life of a subscriber in headless Chromium, through a real uvicorn server and a real
aiosmtpd server: sign up, confirm from the mail, change preferences, receive a digest, click
"less like this", one-click unsubscribe by POST to List-Unsubscribe, and be skipped next time.
Screenshots at 375 px go to artifacts/screenshots/."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine

from digest.ingest import ingest_locations
from digest.issues import open_issue
from digest.sending import ledger
from digest.sending.notice_mail import NoticeMailer
from digest.sending.service import send_issue
from digest.sending.sink import SinkHandler, SmtpServer
from digest.sending.transports.smtp import SmtpTransport
from digest.web import create_app
from papercore.config import Settings, load_settings
from papercore.db.engine import make_engine, migrate, transaction
from subscribers import store
from tests.conftest import SAMPLE_PAGES

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ADDRESS = "ada@example.org"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@dataclass
class World:
    settings: Settings
    engine: Engine
    base_url: str
    sink: SinkHandler

    def mail(self, subject_part: str, timeout: float = 15, after: int = 0) -> EmailMessage:
        """The newest message to ADDRESS whose subject contains ``subject_part``, among those
        received after the first ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received in reversed(self.sink.received[after:]):
                if ADDRESS in received.recipients and subject_part in received.subject:
                    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
                    assert isinstance(parsed, EmailMessage)
                    return parsed
            time.sleep(0.1)
        subjects = [m.subject for m in self.sink.received]
        raise AssertionError(f"no mail with {subject_part!r} arrived; got {subjects}")

    def count(self) -> int:
        return self.sink.count_for(ADDRESS)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def link_after(text: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}\s*\n?\s*(https?://\S+)", text)
    assert found, f"no link after {label!r} in:\n{text}"
    return found.group(1)


def first_link(text: str, path: str) -> str:
    found = re.search(rf"(https?://[^\s>]+{re.escape(path)}[^\s>]+)", text)
    assert found, f"no {path} link in:\n{text}"
    return found.group(1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    sink = SinkHandler()
    smtp = SmtpServer(sink).start()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = load_settings(
        None,
        database={"url": f"sqlite:///{tmp_path / 'digest.sqlite3'}"},
        app={"data_dir": tmp_path / "data", "base_url": base_url},
        smtp={"host": "127.0.0.1", "port": smtp.port, "pool_size": 1},
        web={"secret_key": "browser-test-secret-0123456789abcdef", "signup_min_seconds": 1.0},
        ranking={"semantic": "off"},
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    ingest_locations(
        engine, [str(p) for p in SAMPLE_PAGES], "auto", settings.sources, datetime.now(UTC)
    )
    app = create_app(settings, engine, NoticeMailer(settings, SmtpTransport(settings.smtp)))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield World(settings, engine, base_url, sink)
    finally:
        server.should_exit = True
        thread.join(10)
        smtp.stop()
        engine.dispose()


def send_daily_issue(world: World, day: datetime) -> int:
    """Run the real send service for the daily issue of ``day`` (in its own thread: it runs
    an event loop of its own)."""

    def run() -> int:
        with transaction(world.engine) as connection:
            issue = open_issue(connection, day.date(), "daily", day)
        send_issue(world.engine, world.settings, issue, day)
        return issue.id

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=120)


def test_the_life_of_a_subscriber(world: World) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport={"width": 375, "height": 812},
            timezone_id="Europe/Paris",
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def shot(name: str) -> None:
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

        # Sign up: the time zone comes from the browser, a suggestion is ticked.
        page.goto(world.base_url + "/")
        assert page.input_value("input[name=timezone]") == "Europe/Paris"
        suggestions = page.locator("input[name=suggested]")
        assert suggestions.count() > 0
        chosen = suggestions.first.get_attribute("value")
        suggestions.first.check()
        page.fill("input[name=email]", ADDRESS)
        page.fill("textarea[name=topics]", "diffusion models\nimage segmentation")
        page.select_option("select[name=hour]", "7")
        shot("01-signup")
        page.wait_for_timeout(1200)  # a person takes longer than the minimum fill time
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your inbox")
        shot("02-check-inbox")

        # The confirmation mail, read at the SMTP server.
        confirm_mail = world.mail("Confirm")
        confirm_url = first_link(text_of(confirm_mail), "/confirm/")
        assert world.count() == 1
        page.goto(confirm_url)
        shot("03-confirm")
        page.click("text=Confirm my subscription")
        page.wait_for_selector("text=You are subscribed")
        shot("04-subscribed")
        welcome = world.mail("Welcome")
        preferences_url = first_link(text_of(welcome), "/preferences/")
        with world.engine.connect() as connection:
            person = store.get_by_email(connection, ADDRESS)
            (consent,) = [e for e in store.events(connection, person.id) if e["is_consent"]]
        assert person.status == "active" and person.timezone == "Europe/Paris"
        assert chosen in person.topics and "Europe/Paris" in consent["consent_text"]

        # Preferences.
        page.goto(preferences_url)
        page.fill("textarea[name=authors]", "Ada Lovelace")
        page.fill("textarea[name=mutes]", "medical imaging")
        page.select_option("select[name=hour]", "9")
        page.click("button:has-text('Save')")
        page.wait_for_selector("text=Saved.")
        shot("05-preferences")
        with world.engine.connect() as connection:
            person = store.get_by_email(connection, ADDRESS)
        assert person.hour == 9 and person.authors == ("Ada Lovelace",)

        # A digest, through the real send service and SMTP.
        now = datetime.now(UTC)
        before = len(world.sink.received)
        issue_id = send_daily_issue(world, now)
        digest = world.mail("", timeout=30, after=before)  # the subject names the top pick
        text = text_of(digest)
        # This server is plain http on loopback: RFC 8058 allows only https in the header, so
        # the one-click URL is taken from the message's own unsubscribe link.
        assert "http://" not in str(digest.get("List-Unsubscribe", ""))
        one_click = re.search(r"(http://\S+/unsubscribe/\S+)", text)
        assert one_click, text

        page.goto(link_after(text, "View in browser:"))
        shot("06-view-in-browser")
        page.goto(world.base_url + "/archive")
        shot("07-archive")
        page.click(f"a[href='/issue/{issue_id}']")
        shot("08-issue")

        # Less like this: the landing page presses its button, one example is stored.
        page.goto(link_after(text, "Less like this:"))
        page.wait_for_selector("text=fewer papers like this")
        shot("09-feedback")
        with world.engine.connect() as connection:
            after = store.get_by_email(connection, ADDRESS)
        assert [e.vote for e in after.examples] == [-1]
        assert after.interests == person.interests

        # The unsubscribe page (one button), then one-click by HTTP POST as a mail client does.
        page.goto(one_click.group(1))
        assert page.locator("button.danger").count() == 1  # and two gentler choices
        shot("10-unsubscribe")
        response = httpx.post(
            one_click.group(1),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        page.goto(one_click.group(1))
        page.wait_for_selector("text=You are unsubscribed")
        shot("11-unsubscribed")
        assert not errors, errors
        browser.close()

    # The next send skips them.
    received = world.count()
    tomorrow = now + timedelta(days=1)
    next_issue = send_daily_issue(world, tomorrow)
    with world.engine.connect() as connection:
        person = store.get_by_email(connection, ADDRESS)
        rows = ledger.list_deliveries(connection, next_issue)
    assert person.status == "unsubscribed"
    assert world.count() == received
    assert all(r.status != "sent" for r in rows if r.email == ADDRESS)
