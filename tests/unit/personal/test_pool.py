"""The trending digest's recency rule, part of the issue's pool (so send, preview and
`digest rank --subscriber` keep the same papers)."""

from __future__ import annotations

from datetime import date

from digest.personal.pool import too_old_to_trend
from tests.compose_support import paper


def test_the_trending_digest_leaves_out_papers_older_than_two_weeks() -> None:
    old = paper(1, published=date(2019, 5, 1))
    new = paper(2, published=date(2026, 11, 18))
    unknown = paper(3, published=None, upvotes=99)
    assert too_old_to_trend([old, new, unknown], date(2026, 11, 21)) == {old.id}


def test_recent_is_measured_from_the_newest_paper_of_a_pool_that_stopped_growing() -> None:
    # The bundled sample pages are from 2024: a demo in 2026 still has a trending digest.
    newest = paper(1, published=date(2024, 6, 20))
    week_before = paper(2, published=date(2024, 6, 13))
    months_before = paper(3, published=date(2024, 3, 1))
    found = too_old_to_trend([newest, week_before, months_before], date(2026, 11, 21))
    assert found == {months_before.id}
