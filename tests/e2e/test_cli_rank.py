"""``digest rank`` through the real console script."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from digest.ranking import DatabaseEmbeddings, semantic_available
from tests.conftest import SAMPLE_PAGES, Cli

LEXICAL = {"DIGEST_RANKING__SEMANTIC": "off"}


def ingest(cli: Cli) -> None:
    cli("ingest", *map(str, SAMPLE_PAGES))


def test_rank_topics_as_json(cli: Cli) -> None:
    ingest(cli)
    result = cli("rank", "--topic", "wireless networks", "--limit", "4", "--json", env=LEXICAL)
    picks = json.loads(result.stdout)
    assert len(picks) == 4
    assert all({"id", "title", "score", "why"} <= set(p) for p in picks)
    assert all("matches: wireless networks" in p["why"] for p in picks)
    assert [p["score"] for p in picks] == sorted((p["score"] for p in picks), reverse=True)
    titles = [p["title"] for p in picks]
    assert any("Wireless" in t for t in titles)


def test_rank_for_a_subscriber_skips_delivered_and_shows_a_table(cli: Cli) -> None:
    ingest(cli)
    cli("subscribe", "ada@example.org", "--topic", "graph neural networks", "--confirmed")
    result = cli("rank", "--subscriber", "ada@example.org", "--limit", "3", env=LEXICAL)
    assert "matches: graph neural networks" in result.stdout
    assert "Graph" in result.stdout


def test_no_topics_is_the_trending_digest_and_since_filters(cli: Cli) -> None:
    ingest(cli)
    everything = json.loads(cli("rank", "--json", "--limit", "500", env=LEXICAL).stdout)
    assert len(everything) == 288
    recent = json.loads(
        cli("rank", "--json", "--limit", "500", "--since", "2100-01-01", env=LEXICAL).stdout
    )
    assert recent == []


def test_errors_are_one_line_with_an_exit_code(cli: Cli) -> None:
    missing = cli("rank", "--subscriber", "nobody@example.org", check=False, env=LEXICAL)
    assert missing.returncode == 6
    assert missing.stderr.strip().count("\n") == 0 and "nobody@example.org" in missing.stderr
    both = cli("rank", "--subscriber", "a@example.org", "--topic", "x", check=False, env=LEXICAL)
    assert both.returncode == 3


def test_help_has_an_example(cli: Cli) -> None:
    assert "Example: digest rank" in cli("rank", "--help").stdout


@pytest.mark.skipif(not semantic_available(), reason="the [semantic] extra is not installed")
def test_ingest_embeds_new_papers_and_rank_uses_them(cli: Cli, database_url: str) -> None:
    semantic = {"DIGEST_RANKING__SEMANTIC": "on"}
    page = str(SAMPLE_PAGES[2])  # the smallest page: the real model embeds it in seconds
    ingested = cli("ingest", page, env=semantic)
    assert "embedded" in ingested.stdout and "papers for the semantic ranker" in ingested.stdout
    engine = create_engine(database_url)
    try:
        assert DatabaseEmbeddings(engine).missing_ids() == []
    finally:
        engine.dispose()
    again = cli("ingest", page, env=semantic)
    assert "embedded" not in again.stdout  # nothing new
    result = cli("rank", "--topic", "image super-resolution", "--json", env=semantic)
    picks = json.loads(result.stdout)  # stdout is only the JSON: bars and logs go elsewhere
    assert picks and "Loading weights" not in result.stdout + result.stderr
    table = cli("rank", "--topic", "image super-resolution", "--limit", "3", env=semantic)
    assert "semantic + lexical ranking" in table.stdout
    skipped = cli("ingest", str(SAMPLE_PAGES[0]), "--no-embed", env=semantic)
    assert "embedded" not in skipped.stdout
