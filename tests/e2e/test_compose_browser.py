"""A rendered digest in headless Chromium: mobile and desktop, light and dark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compose_support import HOSTILE_TITLE, ROOT, links, paper, pick, prepared, subscriber

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1200])
def test_digest_fits_the_screen_and_keeps_every_link(
    browser, tmp_path: Path, width: int, scheme: str
) -> None:  # type: ignore[no-untyped-def]
    papers = [paper(i) for i in range(9)] + [paper(9, title=HOSTILE_TITLE)]
    sub = subscriber()
    message = prepared(papers).message(sub, [pick(p) for p in papers], links(sub))
    page_file = tmp_path / "digest.html"
    page_file.write_text(message.html, encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.goto(page_file.as_uri())
    if width == 375:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    for p in papers:
        assert any(h.startswith(p.link.replace("http://", "https://")) for h in hrefs)
    assert sum("/feedback/" in h for h in hrefs) == 20
    for part in ("/unsubscribe/", "/preferences/", "/view/"):
        assert any(part in h for h in hrefs)
    assert all(h.startswith("https://") for h in hrefs)
    assert page.evaluate("window.__xss === undefined")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(17, 24, 39)") == (scheme == "dark")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"digest-{width}-{scheme}.png"), full_page=True)
    page.close()
