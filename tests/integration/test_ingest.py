"""Ingestion into real databases (SQLite and PostgreSQL) from files and a real HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from digest.ingest import ingest_locations, sample_pages
from digest.paper_store import get_papers, list_papers, upsert
from papercore.config import SourcesSettings
from papercore.db.schema import papers
from papercore.errors import InputError, ParseError, SourceUnavailable
from papercore.papers import Paper
from tests.conftest import FIXTURES, NOW, SAMPLE_PAGES

SOURCES = SourcesSettings(retries=2, timeout=2.0)


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(papers)).scalar_one())


def paths(*items: Path) -> list[str]:
    return [str(p) for p in items]


def test_sample_pages_give_288_papers_and_reingesting_adds_nothing(engine: Engine) -> None:
    reports = ingest_locations(engine, paths(*SAMPLE_PAGES), "auto", SOURCES, NOW)
    assert sum(r.counts.new for r in reports) == 288
    assert sum(r.counts.read for r in reports) == 338
    assert count(engine) == 288
    again = ingest_locations(engine, paths(*SAMPLE_PAGES), "page", SOURCES, NOW)
    assert sum(r.counts.new for r in again) == 0
    assert sum(r.counts.merged for r in again) == 0
    assert sum(r.counts.skipped for r in again) == 338
    assert count(engine) == 288


def test_the_package_ships_the_same_sample_pages() -> None:
    assert [p.read_bytes() for p in sample_pages()] == [p.read_bytes() for p in SAMPLE_PAGES]


def test_same_paper_from_two_sources_is_merged_not_duplicated(engine: Engine) -> None:
    ingest_locations(engine, paths(*SAMPLE_PAGES), "auto", SOURCES, NOW)
    reports = ingest_locations(
        engine, paths(FIXTURES / "hf_daily.json", FIXTURES / "arxiv.xml"), "auto", SOURCES, NOW
    )
    hf, atom = reports
    assert (hf.counts.new, hf.counts.merged) == (1, 2)  # PRES and DεpS were on the pages
    assert (atom.counts.new, atom.counts.merged) == (1, 1)  # the wireless paper came from hf
    assert count(engine) == 290
    with engine.connect() as connection:
        found = get_papers(connection, ["2402.03142", "2510.01234", "2510.05555"])
    pres = found["2402.03142"]  # the title-hash id was replaced by the arXiv id
    assert pres.upvotes == 42 and pres.author_count == 3 and set(pres.sources) == {"page", "hf"}
    assert pres.first_seen == NOW
    assert set(found["2510.01234"].sources) == {"hf", "arxiv"}
    assert found["2510.05555"].title.startswith("DεpS")


def test_project_page_and_thumbnail_are_stored_and_merged_in(engine: Engine) -> None:
    plain = Paper(id="2401.00001", title="Plain first", sources=("page",))
    rich = Paper(
        id="2401.00002",
        title="Rich",
        project_url="https://lab.example.org/rich",
        thumbnail_url="https://cdn.example.org/rich.png",
        sources=("hf",),
    )
    with engine.begin() as connection:
        upsert(connection, [plain, rich], NOW)
    later = Paper(
        id="2401.00001",
        title="Plain first",
        project_url="https://lab.example.org/plain",
        thumbnail_url="https://cdn.example.org/plain.png",
        sources=("hf",),
    )
    with engine.begin() as connection:
        counts = upsert(connection, [later], NOW)
    assert counts.merged == 1
    with engine.connect() as connection:
        found = get_papers(connection, ["2401.00001", "2401.00002"])
    assert found["2401.00002"].project_url == "https://lab.example.org/rich"
    assert found["2401.00002"].thumbnail_url == "https://cdn.example.org/rich.png"
    assert found["2401.00001"].project_url == "https://lab.example.org/plain"
    assert found["2401.00001"].thumbnail_url == "https://cdn.example.org/plain.png"
    hf = ingest_locations(engine, paths(FIXTURES / "hf_daily.json"), "auto", SOURCES, NOW)
    assert hf[0].counts.new == 3
    with engine.connect() as connection:
        pres = get_papers(connection, ["2402.03142"])["2402.03142"]
    assert pres.thumbnail_url and pres.thumbnail_url.endswith("/2402.03142.png")


def test_a_bad_file_among_good_ones_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"paper": {"id": "2401.1"}}]')
    with pytest.raises(ParseError, match=r"bad\.json:1: item 1: paper\.title is missing"):
        ingest_locations(engine, [*paths(*SAMPLE_PAGES), str(bad)], "auto", SOURCES, NOW)
    assert count(engine) == 0


def test_a_50_mb_file_is_refused_without_reading_it(engine: Engine, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match="over the 20,000,000-byte limit"):
        ingest_locations(engine, [str(big)], "auto", SOURCES, NOW)
    assert count(engine) == 0


def test_missing_file_is_a_clear_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="no such file"):
        ingest_locations(engine, [str(tmp_path / "nope.txt")], "auto", SOURCES, NOW)


def test_list_papers_since_a_date(engine: Engine) -> None:
    ingest_locations(engine, paths(SAMPLE_PAGES[1]), "auto", SOURCES, NOW)
    with engine.connect() as connection:
        assert len(list_papers(connection)) == 76
        assert len(list_papers(connection, limit=5)) == 5


class Server:
    """A real HTTP server on loopback serving fixtures; can fail the first N requests."""

    def __init__(self) -> None:
        self.failures = 0
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                if server.failures > 0:
                    server.failures -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                name = self.path.split("?")[0].lstrip("/")
                path = FIXTURES / name
                if not path.is_file():
                    self.send_response(404)
                    self.end_headers()
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def http() -> Iterator[Server]:
    server = Server()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_ingest_from_http_urls(engine: Engine, http: Server) -> None:
    urls = [f"{http.url}/{p.name}" for p in SAMPLE_PAGES] + [
        f"{http.url}/hf_daily.json?date=2024-02-06"
    ]
    reports = ingest_locations(engine, urls, "auto", SOURCES, NOW)
    assert sum(r.counts.new for r in reports) == 289
    assert reports[0].name == urls[0]


def test_http_retries_temporary_failures(engine: Engine, http: Server) -> None:
    http.failures = 2
    reports = ingest_locations(engine, [f"{http.url}/arxiv.xml"], "auto", SOURCES, NOW)
    assert reports[0].counts.new == 2
    assert http.hits == 3


def test_http_gives_up_with_a_clear_error(engine: Engine, http: Server) -> None:
    http.failures = 10
    with pytest.raises(SourceUnavailable, match=r"HTTP 503 \(after 3 attempts\)"):
        ingest_locations(engine, [f"{http.url}/arxiv.xml"], "auto", SOURCES, NOW)
    with pytest.raises(SourceUnavailable, match="HTTP 404"):
        http.failures = 0
        ingest_locations(engine, [f"{http.url}/missing.xml"], "auto", SOURCES, NOW)


def test_offline_is_a_clear_error(engine: Engine) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable, match="cannot connect"):
        ingest_locations(engine, [f"http://127.0.0.1:{port}/x.json"], "auto", SOURCES, NOW)
