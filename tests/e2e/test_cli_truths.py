"""What the CLI says is true (issue 23): the trending digest of the bundled sample, ingest's
skip reasons, collect without sources, and `digest deliveries` at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLE_PAGES, Cli

pytestmark = pytest.mark.slow


def test_the_trending_digest_of_the_bundled_sample_is_full_and_its_labels_are_true(
    cli: Cli, tmp_path: Path
) -> None:
    cli("ingest", *map(str, SAMPLE_PAGES))
    target = tmp_path / "trending.html"
    result = cli("preview", "--output", str(target))
    assert "for preview@example.org: 10 papers" in result.stdout  # was 2 of 288
    html = target.read_text(encoding="utf-8")
    text = target.with_suffix(".eml").read_text(encoding="utf-8", errors="replace")
    # no paper of the sample has a vote: nothing may be called the most upvoted
    assert "most upvoted" not in html.lower() and "most upvoted" not in text.lower()
    assert "Top of the issue" in html and "ranked by upvotes, comments and recency" in html
