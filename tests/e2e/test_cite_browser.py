"""A card's "Cite" link in Chromium at 375 px: the digest mail, with a hostile title and
authors, shows "Cite" on the card without sideways scrolling; tapping it gets the paper's BibTeX
from the real web app (uvicorn), and bibtexparser reads it with the same title, authors and
eprint."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import bibtexparser
import pytest
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from digest.compose.text import clean
from papercore.papers import Paper
from tests.compose_support import links, paper, pick, prepared, subscriber

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAIL_BASE = "https://digest.example.org"
TITLE = 'Cite me {if} you \\ "can" <script>window.__xss=1</script>'
AUTHORS = ("Ada {Love}lace", 'Eve "<b>" \\x')

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


@contextmanager
def site_with(tmp_path: Path, found: Paper) -> Iterator[str]:
    """The real web app under uvicorn with ``found`` in its store; yields its base URL."""
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
    ingest(engine, [found], datetime.now(UTC))
    app = create_app(settings, engine, NoticeMailer(settings, RecordingTransport()))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)  # uvicorn has no started event to wait on
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


def literal(tex: str) -> str:
    db = get_default_latex_context_db()
    db.add_context_category(
        "braces",
        macros=[MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}")],
        prepend=True,
    )
    return str(LatexNodes2Text(latex_context=db).latex_to_text(tex))


def test_the_cite_link_on_a_phone_gives_bibtex_a_parser_reads(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = paper(0, id="2611.04343", title=TITLE, authors=AUTHORS)
    with site_with(tmp_path, found) as base_url:
        html = prepared([found]).message(subscriber(), [pick(found)], links(subscriber())).html
        assert f'href="{MAIL_BASE}/paper/2611.04343.bib"' in html
        mail = tmp_path / "digest.html"
        mail.write_text(html.replace(MAIL_BASE + "/paper/", base_url + "/paper/"), "utf-8")
        page = browser.new_page(viewport={"width": 375, "height": 900}, accept_downloads=True)
        page.goto(mail.as_uri())
        cite = page.locator("a:text-is('Cite')")
        assert cite.count() == 1 and cite.is_visible()
        box = cite.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.evaluate("window.__xss === undefined")
        with page.expect_download() as download:
            cite.click()
        text = Path(download.value.path()).read_text("utf-8")
        page.close()
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    (entry,) = library.entries
    fields = entry.fields_dict
    assert entry.entry_type == "misc"
    assert fields["eprint"].value == "2611.04343" and fields["archivePrefix"].value == "arXiv"
    assert literal(fields["title"].value) == clean(TITLE)  # as shown: LaTeX read as text
    assert fields["author"].value.count(" and ") == 1
    assert [literal(a) for a in fields["author"].value.split(" and ")] == [
        clean(a) for a in AUTHORS
    ]
