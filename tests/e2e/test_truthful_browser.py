"""Issue 23, items 4-7, in headless Chromium at 375 px (a phone) through a real uvicorn server
and a real SMTP server: "send me a new link" mails the right thing and says the same for every
address; refresh and back after a signup send nothing again; a failed save shows an error
summary at the top that takes you to the field, and a city is read as its time zone; 300
topics come back exactly as typed. Screenshots go to artifacts/screenshots/truth-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from papercore.db.engine import transaction
from subscribers import store
from subscribers.links import SubscriberLinks
from subscribers.tokens import Signer
from tests.e2e import test_browser_life as life
from tests.e2e.test_browser_life import CHROMIUM, SHOTS, World, first_link, text_of
from tests.e2e.test_web_flows import mail_to

world = life.world  # the fixture: a real uvicorn server and a real SMTP server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]
ADA = "ada@example.org"
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            viewport=PHONE, timezone_id="Europe/Paris", is_mobile=True, has_touch=True
        )
        yield context.new_page()
        browser.close()


def active(world: World, email: str = ADA) -> store.Subscriber:
    now = datetime.now(UTC)
    with transaction(world.engine) as connection:
        person_id = store.add(
            connection, email, now, topics=("graph neural networks",), status="active"
        )
        return store.get(connection, person_id)


def preferences_url(world: World, person: store.Subscriber) -> str:
    signer = Signer(world.settings.web.secret_key.get_secret_value())
    links = SubscriberLinks(
        world.base_url, signer, person.id, person.token_version, None, datetime.now(UTC)
    )
    return links.preferences


def in_view(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def signups_of(world: World, email: str) -> int:
    with world.engine.connect() as connection:
        person = store.get_by_email(connection, email)
        return len([e for e in store.events(connection, person.id) if e["kind"] == "signup"])


def test_send_me_a_new_link_mails_a_manage_link_and_says_the_same_for_anyone(
    world: World, phone: Any
) -> None:
    active(world)
    page = phone
    for address, name in ((ADA, "known"), ("nobody@example.org", "unknown")):
        before = len(world.sink.received)
        page.goto(world.base_url + "/preferences/not-a-token")
        page.wait_for_selector("text=This link does not work")
        page.fill("input[name=email]", address)
        page.click("button:has-text('Send me a new link')")
        page.wait_for_selector("text=If this address is on our list, we have mailed it a link")
        assert page.url.endswith("/link/sent")
        assert "confirmation link is on its way" not in page.content()
        page.screenshot(path=str(SHOTS / f"truth-new-link-{name}.png"), full_page=True)
        if address == ADA:  # read at the SMTP server: the manage mail, with their link
            manage = text_of(mail_to(world, ADA, "subscription", after=before))
            assert "already subscribed" in manage
            page.goto(first_link(manage, "/preferences/"))
            page.wait_for_selector("h1:has-text('Your preferences')")
    assert not [m for m in world.sink.received if "nobody@example.org" in m.recipients]


def test_refresh_and_back_after_signup_send_nothing_again(world: World, phone: Any) -> None:
    page = phone
    page.goto(world.base_url + "/")
    page.fill("input[name=email]", ADA)
    page.fill("textarea[name=topics]", "graph neural networks")
    page.wait_for_timeout(1200)  # a person takes longer than the minimum fill time
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    assert page.url.endswith("/signup/sent") and ADA in page.content()
    page.reload()
    page.wait_for_selector("text=Check your inbox")
    page.go_back()
    page.go_forward()
    page.wait_for_selector("text=Check your inbox")
    page.reload()
    page.wait_for_selector("text=Check your inbox")
    assert signups_of(world, ADA) == 1  # recorded once: one confirmation mail, no 429 later
    mail_to(world, ADA, "Confirm")


def test_a_failed_save_is_shown_at_the_top_and_a_city_is_its_time_zone(
    world: World, phone: Any
) -> None:
    person = active(world)
    page = phone
    page.goto(preferences_url(world, person))
    page.fill("input[name=timezone]", "Eastern")  # two zones are called that
    page.click("button:has-text('Save')")
    page.wait_for_selector("#error-summary")
    assert in_view(page, "#error-summary")  # on the first screen of a phone
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "US/Eastern" in page.inner_text("#error-summary")
    page.screenshot(path=str(SHOTS / "truth-error-summary.png"))
    page.click("#error-summary a[href='#timezone']")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'timezone'")
    assert in_view(page, "#timezone")
    page.fill("input[name=timezone]", "Berlin")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved.")
    with world.engine.connect() as connection:
        assert store.get(connection, person.id).timezone == "Europe/Berlin"
    assert page.input_value("input[name=timezone]") == "Europe/Berlin"


def test_three_hundred_topics_come_back_exactly_as_typed(world: World, phone: Any) -> None:
    typed = "\n".join(f"topic number {i} about graph learning" for i in range(300))
    page = phone
    page.goto(world.base_url + "/")
    page.fill("input[name=email]", ADA)
    page.fill("textarea[name=topics]", typed)
    page.wait_for_timeout(1200)
    page.click("button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert "the limit is 50" in page.inner_text("#error-summary")
    assert in_view(page, "#error-summary")
    assert page.input_value("textarea[name=topics]") == typed
    page.screenshot(path=str(SHOTS / "truth-too-many-topics.png"))
