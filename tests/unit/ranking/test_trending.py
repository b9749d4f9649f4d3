"""Trending: upvotes, comments and freshness, weighted as configured."""

from __future__ import annotations

from datetime import timedelta

from digest.ranking.trending import trending, trending_reason
from papercore.config import RankingSettings
from tests.unit.ranking.support import NOW, paper


def test_recency_halves_every_half_life() -> None:
    papers = [paper("New", posted_at=NOW), paper("Week old", posted_at=NOW - timedelta(days=7))]
    found = trending(papers, RankingSettings(recency_half_life_days=7), NOW)
    assert found.recency.tolist() == [1.0, 0.5]


def test_weights_decide_what_trending_means() -> None:
    papers = [paper("Upvoted", upvotes=100), paper("Discussed", comments=50)]
    votes = trending(papers, RankingSettings(upvotes_weight=1, comments_weight=0), NOW).score
    talk = trending(papers, RankingSettings(upvotes_weight=0, comments_weight=1), NOW).score
    assert votes[0] > votes[1] and talk[1] > talk[0]


def test_reasons() -> None:
    assert trending_reason(paper("A", upvotes=120)) == "trending: 120 upvotes"
    assert trending_reason(paper("B", upvotes=2, comments=7)) == "discussed: 7 comments"
    assert trending_reason(paper("C")) is None
