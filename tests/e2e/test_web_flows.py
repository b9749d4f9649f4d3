"""Issue 15's flows in headless Chromium through a real uvicorn server and a real SMTP server,
each page photographed at 375 and 1,280 px (artifacts/screenshots/flow-*.png):
signup (too fast, then again) -> confirm -> welcome -> preferences -> change address ->
unsubscribe (pause / weekly offered) -> resubscribe; and the dead ends: a dead link's "send me a
new link", an already subscribed address's manage mail, "UTC" kept after an error, the archive,
a public issue and the operator's runs table at 1,280 px."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from pydantic import SecretStr

from subscribers import store
from tests.e2e import test_browser_life as life
from tests.e2e.test_browser_life import (
    CHROMIUM,
    SHOTS,
    World,
    first_link,
    send_daily_issue,
    text_of,
)

world = life.world  # the fixture: a real uvicorn server and a real SMTP server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]
ADA, NEW = "ada@example.org", "ada@new.example.org"
WIDTHS = (375, 1280)


def mail_to(world: World, address: str, subject_part: str, after: int = 0) -> EmailMessage:
    """The first message to ``address`` with ``subject_part`` among those after the ``after``th."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for received in world.sink.received[after:]:
            if address in received.recipients and subject_part in received.subject:
                parsed = email.message_from_bytes(received.data, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                return parsed
        time.sleep(0.1)
    raise AssertionError(f"no {subject_part!r} mail to {address}")


class Browser:
    def __init__(self, playwright, world: World) -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        self.context = self.browser.new_context(
            viewport={"width": 375, "height": 812}, timezone_id="Europe/Paris"
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def shot(self, name: str) -> None:
        """The page at both widths (the flow itself runs at 375 px, a phone)."""
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 812})
            self.page.screenshot(path=str(SHOTS / f"flow-{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size({"width": 375, "height": 812})

    def no_sideways_scroll(self) -> None:
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 812})
            wide = self.page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{self.page.url} scrolls sideways at {width} px ({wide})"
        self.page.set_viewport_size({"width": 375, "height": 812})


def test_signup_to_resubscribe(world: World) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        b = Browser(playwright, world)
        page = b.page
        world.settings.web.signup_min_seconds = 3.0  # the default; the fixture's is 1 s
        page.goto(world.base_url + "/")
        page.fill("input[name=email]", ADA)
        page.click("button[type=submit]")  # at once: too fast for a person
        page.wait_for_selector("text=That was fast!")
        world.settings.web.signup_min_seconds = 1.0
        assert page.input_value("input[name=email]") == ADA
        weekday = page.locator("select[name=weekday]")
        assert weekday.is_disabled()  # "Daily" is chosen: the weekday means nothing
        page.check("input[name=frequency][value=weekly]")
        assert weekday.is_enabled()
        box = weekday.bounding_box()
        weekly = page.locator("input[name=frequency][value=weekly]").bounding_box()
        assert box and weekly  # "Weekly on <day>" stays on one line at 375 px
        assert abs(box["y"] + box["height"] / 2 - weekly["y"] - weekly["height"] / 2) < 8
        weight = "e => getComputedStyle(e).fontWeight"
        assert page.eval_on_selector("select[name=hour]", weight) == "400"
        page.check("input[name=frequency][value=daily]")
        suggestion = page.locator("input[name=suggested]").first
        chosen = suggestion.get_attribute("value")
        suggestion.check()
        b.shot("01-too-fast")
        page.wait_for_timeout(1200)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your inbox")
        b.shot("02-check-inbox")

        page.goto(first_link(text_of(mail_to(world, ADA, "Confirm")), "/confirm/"))
        page.click("text=Confirm my subscription")
        page.wait_for_selector("text=You are subscribed")
        assert chosen and page.locator(f"ul.topics li:has-text('{chosen}')").count() == 1
        assert page.locator("text=Your first digest comes on").count() == 1
        b.shot("03-subscribed")
        welcome = text_of(mail_to(world, ADA, "Welcome"))
        assert "Choose your topics" not in welcome and chosen in welcome
        assert "See a preview of your first digest:" in welcome

        # Preferences: a suggestion on this form too, and Post/Redirect/Get.
        page.goto(first_link(welcome, "/preferences/"))
        assert page.input_value("input[name=timezone]") == "Europe/Paris"
        offered = page.locator("fieldset.suggestions input[name=suggested]")
        assert offered.count() > 0
        assert chosen not in [offered.nth(i).get_attribute("value") for i in range(offered.count())]
        page.select_option("select[name=hour]", "9")
        page.fill("input[name=email]", NEW)
        page.click("button:has-text('Save')")
        page.wait_for_selector("text=Saved. To move your digest to the new address")
        assert "?saved=moving" in page.url
        b.shot("04-preferences-saved")
        page.reload()  # no "resend the form?": the page was fetched by GET
        page.wait_for_selector("text=Saved.")

        # Change of address: confirm at the new one.
        page.goto(first_link(text_of(mail_to(world, NEW, "Confirm")), "/confirm/"))
        page.click("button[type=submit]")
        page.wait_for_selector("text=Address changed")
        with world.engine.connect() as connection:
            person = store.get_by_email(connection, NEW)
        assert person.hour == 9 and person.status == "active"

        # Unsubscribe offers a pause and a weekly digest first; then goodbye.
        links = store_links(world, person)
        page.goto(links)
        assert page.locator("text=Pause my digest").count() == 1
        assert page.locator("text=Weekly instead").count() == 1
        b.shot("05-unsubscribe")
        page.click("text=Weekly instead")
        page.wait_for_selector("text=Your digest is now weekly")
        b.shot("06-weekly-instead")
        page.goto(links)
        page.click("button.danger")
        page.wait_for_selector("text=You are unsubscribed")
        b.shot("07-unsubscribed")

        # Resubscribe: a new opt-in.
        page.click("a:has-text('Sign up again')")
        page.fill("input[name=email]", NEW)
        page.wait_for_timeout(1200)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your inbox")
        count = len(world.sink.received)
        page.goto(first_link(text_of(mail_to(world, NEW, "Confirm", after=count - 1)), "/confirm/"))
        page.click("text=Confirm my subscription")
        page.wait_for_selector("text=You are subscribed")
        with world.engine.connect() as connection:
            assert store.get_by_email(connection, NEW).status == "active"
        assert not b.errors, b.errors
        b.browser.close()


def store_links(world: World, person: store.Subscriber) -> str:
    """The person's unsubscribe link, as their mails carry it."""
    from subscribers.links import SubscriberLinks
    from subscribers.tokens import Signer

    signer = Signer(world.settings.web.secret_key.get_secret_value())
    return SubscriberLinks(
        world.base_url, signer, person.id, person.token_version, None, datetime.now(UTC)
    ).unsubscribe


def test_dead_ends_lead_somewhere(world: World) -> None:
    from playwright.sync_api import sync_playwright

    world.settings.web.operator_password = SecretStr("op-secret")
    with sync_playwright() as playwright:
        b = Browser(playwright, world)
        page = b.page
        # A deliberate "UTC" survives a validation error.
        page.goto(world.base_url + "/")
        page.fill("input[name=email]", ADA)
        page.fill("input[name=timezone]", "UTC")
        page.fill("textarea[name=topics]", "x" * 300)
        page.wait_for_timeout(1200)
        page.click("button[type=submit]")
        page.wait_for_selector("#topics-error")
        assert page.get_attribute("textarea[name=topics]", "aria-invalid") == "true"
        assert page.input_value("input[name=timezone]") == "UTC"
        b.shot("08-signup-error")
        page.click("text=How we handle your data")
        page.wait_for_selector("text=What we keep")
        b.shot("09-privacy")

        # A dead link offers a new one (mailed only to an address on the list, the page says
        # the same for any); a signup with a subscribed address gets a manage mail.
        page.goto(world.base_url + "/preferences/not-a-token")
        page.wait_for_selector("text=This link does not work")
        b.shot("10-dead-link")
        page.fill("input[name=email]", ADA)
        page.click("button:has-text('Send me a new link')")
        page.wait_for_selector("text=If this address is on our list")
        page.goto(world.base_url + "/")
        page.fill("input[name=email]", ADA)
        page.wait_for_timeout(1200)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your inbox")
        page.goto(first_link(text_of(mail_to(world, ADA, "Confirm")), "/confirm/"))
        page.click("text=Confirm my subscription")
        page.wait_for_selector("text=You are subscribed")
        before = len(world.sink.received)
        page.goto(world.base_url + "/")
        page.fill("input[name=email]", ADA)
        page.wait_for_timeout(1200)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your inbox")
        manage = text_of(mail_to(world, ADA, "subscription", after=before))
        assert "already subscribed" in manage and "/preferences/" in manage

        # The archive and a public issue, and the operator's runs table at 1,280 px.
        issue_id = send_daily_issue(world, datetime.now(UTC))
        page.goto(world.base_url + "/archive")
        assert page.locator("ul.tops li").count() >= 1
        b.no_sideways_scroll()
        b.shot("11-archive")
        page.click(f"a[href='/issue/{issue_id}']")
        page.wait_for_selector("text=Get your own digest")
        b.no_sideways_scroll()
        b.shot("12-issue")
        operator = b.browser.new_context(
            viewport={"width": 1280, "height": 900},
            http_credentials={"username": "operator", "password": "op-secret"},
        ).new_page()
        operator.goto(world.base_url + "/operator")
        operator.wait_for_selector("text=Last runs")
        clipped = operator.evaluate(
            "[...document.querySelectorAll('.scroll')].some(e => e.scrollWidth > e.clientWidth)"
        )
        assert not clipped
        operator.screenshot(path=str(SHOTS / "flow-13-operator-1280.png"), full_page=True)
        script_errors = [e for e in b.errors if "Failed to load resource" not in e]
        assert not script_errors, script_errors  # the 422 and 400 pages are meant
        b.browser.close()
