"""Every email template in headless Chromium at 375 and 1,200 px, light and dark: no horizontal
scroll, tap targets of at least 44 px for the feedback buttons, no text under 14 px on a phone,
WCAG AA contrast computed from the rendered colours; a screenshot of each in artifacts/."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from digest.compose.notices import NOTICES, notice
from tests.compose_support import (
    HOSTILE_TITLE,
    ROOT,
    compose_settings,
    links,
    paper,
    pick,
    prepared,
    subscriber,
)

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ABSTRACT = (
    "Graph neural networks are hard to scale. We propose GraphScale, a message passing scheme "
    "that trains deep graph networks on billion-edge graphs with constant memory. Experiments "
    "on five benchmarks show that GraphScale outperforms prior methods by 4.1 points."
)

ROBOTS = "A robotic manipulation policy lets robots grasp unseen objects from one demonstration."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

# Every visible text element: its font size, its colour and the colour behind it (the first
# ancestor with an opaque background), as the browser computed them.
TEXTS = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const behind = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest('.pd-preheader')) continue;
    const st = getComputedStyle(el);
    out.push({text: n.textContent.trim().slice(0, 40), size: parseFloat(st.fontSize),
              color: rgb(st.color).slice(0, 3), background: behind(el)});
  }
  return out;
}"""


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: list[float], b: list[float]) -> float:
    """The WCAG 2 contrast ratio of two sRGB colours."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _documents() -> dict[str, str]:
    """One HTML document per template: the personal digest, the trending digest, the notices."""
    topics = ("graph neural networks", "video generation")
    papers = [paper(i, abstract=ABSTRACT) for i in range(9)] + [paper(9, title=HOSTILE_TITLE)]
    whys = [(f"matches: {topics[i % 2]}",) for i in range(10)]
    reader = subscriber(topics=topics)
    issue = prepared(papers)
    docs = {
        "digest": issue.message(
            reader, [pick(p, w) for p, w in zip(papers, whys, strict=True)], links(reader)
        ).html,
    }
    trending_reader = subscriber(8, topics=())
    robots = [
        paper(20 + i, title=f"Robots that learn to grasp, part {i}", abstract=ROBOTS)
        for i in range(4)
    ]
    hot = [*papers[:3], *robots, *papers[7:]]  # ten, the hostile title among them
    docs["trending"] = (
        prepared(hot)
        .message(
            trending_reader, [pick(p, ("new: listed Nov 20",)) for p in hot], links(trending_reader)
        )
        .html
    )
    settings = compose_settings()
    now = datetime(2026, 11, 21, 8, tzinfo=UTC)
    for kind in NOTICES:
        docs[kind] = notice(
            kind,
            settings,
            to="reader@example.com",
            action_url="https://digest.example.org/confirm/tok",
            now=now,
            unsubscribe_url="https://digest.example.org/unsubscribe/tok"
            if kind == "welcome"
            else None,
            preview_url="https://digest.example.org/view/tok" if kind == "welcome" else None,
        ).html
    return docs


DOCUMENTS = _documents()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1200])
@pytest.mark.parametrize("template", list(DOCUMENTS))
def test_every_template_is_readable_on_a_phone_and_a_desktop(
    browser, tmp_path: Path, template: str, width: int, scheme: str
) -> None:  # type: ignore[no-untyped-def]
    page_file = tmp_path / f"{template}.html"
    page_file.write_text(DOCUMENTS[template], encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.goto(page_file.as_uri())
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{template}-{width}-{scheme}.png"), full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= width
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(17, 24, 39)") == (scheme == "dark")
    texts = page.evaluate(TEXTS)
    assert texts
    if width == 375:
        small = [t for t in texts if t["size"] < 14]
        assert not small, small
    poor = [
        (t["text"], round(contrast(t["color"], t["background"]), 2))
        for t in texts
        if contrast(t["color"], t["background"]) < 4.5
    ]
    assert not poor, poor
    hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.href)")
    assert all(h.startswith("https://") for h in hrefs), hrefs
    assert page.evaluate("window.__xss === undefined")
    if template in ("digest", "trending"):
        buttons = page.eval_on_selector_all(
            "a[href*='/feedback/']",
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return [r.width, r.height, r.left, r.right, r.top]; })",
        )
        assert len(buttons) == 20  # "More like this" and "Less like this" for each paper
        assert all(w >= 44 and h >= 44 for w, h, *_ in buttons), buttons
        for (_, _, _, right, top), (_, _, left, _, top2) in zip(
            buttons[::2], buttons[1::2], strict=True
        ):
            assert top != top2 or left - right >= 8  # not crammed together
        for part in ("/unsubscribe/", "/preferences/", "/view/"):
            assert any(part in h for h in hrefs)
    page.close()


def test_the_personal_digest_leads_with_the_top_pick_and_groups_by_topic(
    browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page_file = tmp_path / "digest.html"
    page_file.write_text(DOCUMENTS["digest"], encoding="utf-8")
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(page_file.as_uri())
    body = page.inner_text("body")
    assert "Your topics: graph neural networks, video generation" in body
    assert body.index("TOP PICK FOR YOU") < body.index("Deep graph networks, part 0")
    assert body.index("VIDEO GENERATION") < body.index("GRAPH NEURAL NETWORKS")
    assert "We propose GraphScale" in body and "hard to scale" not in body  # the summary
    assert "Abstract · Paper · PDF · Code" in body
    assert page.get_attribute("a:text-is('Abstract')", "href") == (
        "https://digest.example.org/paper/2611.00000"
    )
    page.close()


def test_the_trending_digest_says_what_it_is(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page_file = tmp_path / "trending.html"
    page_file.write_text(DOCUMENTS["trending"], encoding="utf-8")
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(page_file.as_uri())
    body = page.inner_text("body")
    assert "Trending this week" in body and "ranked by upvotes, comments and recency" in body
    assert "picked for you" not in body and "new: listed" not in body
    # grouped by theme in the order of each theme's best paper; the lead stands alone
    # the lead has 10 upvotes and a card below it 11: it is the top of the blend, not "most upvoted"
    assert "MOST UPVOTED" not in body
    assert body.index("TOP OF THE ISSUE") < body.index("GRAPH LEARNING") < body.index("ROBOTICS")
    assert body.index("ROBOTICS") < body.index("Robots that learn to grasp, part 0")
    page.close()


@contextmanager
def paper_site(tmp_path: Path, abstract: str) -> Iterator[tuple[str, str]]:
    """The real web app under uvicorn, with one paper in its store: (base URL, paper id)."""
    import uvicorn

    from digest.paper_store import ingest
    from digest.sending.notice_mail import NoticeMailer
    from digest.sending.transports.recording import RecordingTransport
    from digest.web.app import create_app
    from papercore.config import load_settings
    from papercore.db.engine import make_engine, migrate

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = load_settings(
        None,
        database={"url": f"sqlite:///{tmp_path / 'digest.sqlite3'}"},
        app={"data_dir": tmp_path / "data", "base_url": base_url},
        web={"secret_key": "browser-test-secret-0123456789abcdef"},
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    found = paper(0, id="2611.04242", abstract=abstract)
    ingest(engine, [found], datetime.now(UTC))
    app = create_app(settings, engine, NoticeMailer(settings, RecordingTransport()))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield base_url, found.id
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


def test_the_abstract_link_opens_the_whole_abstract_on_a_phone(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The card's "Abstract" link leads to /paper/<id> on our site: served by the real app, in
    Chromium at 375 px, the whole abstract is there and nothing scrolls sideways."""
    with paper_site(tmp_path, ABSTRACT * 3) as (base_url, paper_id):
        html = (
            prepared([paper(0, id=paper_id, abstract=ABSTRACT * 3)])
            .message(
                subscriber(),
                [pick(paper(0, id=paper_id, abstract=ABSTRACT * 3))],
                links(subscriber()),
            )
            .html
        )
        href = re.search(r'<a href="([^"]+)"[^>]*>Abstract</a>', html)
        assert href and href.group(1).endswith(f"/paper/{paper_id}")
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(base_url + href.group(1).removeprefix("https://digest.example.org"))
        assert page.inner_text("h2:text-is('Abstract') + p") == (ABSTRACT * 3).strip()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "paper-page-375-light.png"), full_page=True)
    page.close()
