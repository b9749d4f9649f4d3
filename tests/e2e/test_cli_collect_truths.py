"""What the CLI says is true (issue 23): the trending digest of the bundled sample, ingest's
skip reasons, collect without sources, and `digest deliveries` at 80 columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from digest.ingest import sample_pages
from digest.sending.sink import SinkHandler, SmtpServer
from tests.conftest import SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow


def test_the_trending_digest_of_the_bundled_sample_is_full_and_its_labels_are_true(
    cli: Cli, tmp_path: Path
) -> None:
    cli("ingest", *map(str, sample_pages()))  # the five pages shipped with the package
    target = tmp_path / "trending.html"
    result = cli("preview", "--output", str(target))
    assert "for preview@example.org: 10 papers" in result.stdout  # was 2 of 288
    html = target.read_text(encoding="utf-8")
    text = target.with_suffix(".eml").read_text(encoding="utf-8", errors="replace")
    # no paper of the sample has a vote: nothing may be called the most upvoted
    assert "most upvoted" not in html.lower() and "most upvoted" not in text.lower()
    assert "Top of the issue" in html and "ranked by upvotes, comments and recency" in html


@pytest.fixture
def relay() -> Iterator[tuple[SinkHandler, int]]:
    handler = SinkHandler()
    with SmtpServer(handler) as server:
        yield handler, server.port


def test_ingest_says_why_it_skipped_papers(cli: Cli, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        "Jun 6\n\nA tiny paper about ducks\n\nWe study ducks at length in ponds.\n\n"
        "A tiny paper about ducks\n\nWe study ducks at length in ponds.\n\n"
        "Geese are loud\n\nWe measure geese honking.\n",
        encoding="utf-8",
    )
    first = cli("ingest", str(page))
    assert "Skipped 1: why" in first.stdout and "a duplicate in the same file" in first.stdout
    other = tmp_path / "other.txt"
    other.write_text("Jun 7\n\nSwans glide\n\nWe watch swans glide on lakes.\n", "utf-8")
    said = cli("ingest", str(page), str(other), str(other)).stdout
    assert "Skipped 4: why" in said
    assert re.search(r"already stored, nothing new\s*│\s*3 │", said)
    assert re.search(r"already read from an earlier file of this run\s*│\s*1 │", said)


def test_collect_without_sources_warns_in_one_line_how_to_configure_them(
    cli: Cli, relay: tuple[SinkHandler, int]
) -> None:
    _, port = relay
    result = cli("run", "--once", "--dev", env={"DIGEST_SMTP__PORT": str(port)})
    (warning,) = [line for line in result.stderr.splitlines() if "collect.no_sources" in line]
    assert warning.split()[1] == "warning"
    assert "no sources configured" in warning and "[sources] pages" in warning
    assert "config.example.toml" in warning


def test_deliveries_fit_80_columns_with_whole_headers(
    cli: Cli, relay: tuple[SinkHandler, int]
) -> None:
    handler, port = relay
    cli("ingest", *map(str, SAMPLE_PAGES))
    long = "a.reader.with.a.rather.long.address@research-institute.example.org"
    cli("subscribe", long, "--topic", "graph neural networks", "--confirmed")
    cli("send", "--dev", env={"DIGEST_SMTP__PORT": str(port)})
    assert handler.received
    shown = cli("deliveries", env={"COLUMNS": "80"}).stdout
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "subscriber" in line)
    for column in ("subscriber", "status", "tries", "papers", "KB", "updated", "last reply"):
        assert column in header, header
    assert "…" not in shown
    folded = "".join(line.split("│")[1].strip() for line in lines if line.startswith("│"))
    assert long in folded  # the address folds onto more lines, whole
