"""Explanations a reader can check: "matches: X" only when the paper says every word of X."""

from __future__ import annotations

import json
import random
from pathlib import Path

from digest.ranking.text import paper_fields, query_tokens, tokens
from papercore.papers import Paper
from subscribers.model import Interest
from tests.unit.ranking.support import NOW, lexical, paper, sample_papers

JUDGMENTS = Path(__file__).resolve().parents[3] / "benchmarks" / "judgments.json"


def words_of(found: Paper) -> set[str]:
    title, abstract = paper_fields(found)
    return set(tokens([f"{title} {abstract}"])[0])


def profiles() -> list[list[str]]:
    """The judged profiles' topics, plus random mixes of them (two to four phrases each)."""
    judged = [p["topics"] for p in json.loads(JUDGMENTS.read_text())["profiles"]]
    phrases = sorted({t for topics in judged for t in topics})
    rng = random.Random(13)
    mixes = [rng.sample(phrases, rng.randint(2, 4)) for _ in range(60)]
    return [*judged, *mixes]


def test_every_matches_claim_names_words_the_paper_contains() -> None:
    papers = sample_papers()
    ranker = lexical(papers)
    claims = related = 0
    for topics in profiles():
        for pick in ranker.rank([Interest("topic", t) for t in topics], limit=10, now=NOW):
            present = words_of(pick.paper)
            for reason in pick.why:
                if reason.startswith("matches: "):
                    named = reason.removeprefix("matches: ").split(", ")
                    assert set(named) <= set(topics), reason
                    for phrase in named:
                        missing = set(query_tokens(phrase)) - present
                        assert not missing, (pick.paper.title, phrase, missing)
                        claims += 1
                related += reason.startswith("related to: ")
    assert claims > 500 and related > 0  # both kinds of claim were exercised


def test_a_paper_found_through_related_words_is_related_not_matched() -> None:
    exact = paper("Graph Neural Networks", "Message passing graph neural networks on graphs.")
    partial = paper("Neural Networks on Graphs", "Graph learning with deep nets and graphs.")
    picks = lexical([exact, partial]).rank(
        [Interest("topic", "graph neural networks")], limit=2, now=NOW
    )
    reasons = {p.paper.title: p.why[0] for p in picks}
    assert reasons["Graph Neural Networks"] == "matches: graph neural networks"
    assert reasons["Neural Networks on Graphs"] == "matches: graph neural networks"
    missing_word = paper("Graph Learning at Scale", "Deep learning on large graphs and nets.")
    picks = lexical([exact, missing_word]).rank(
        [Interest("topic", "graph neural networks")], limit=2, now=NOW
    )
    reasons = {p.paper.title: p.why[0] for p in picks}
    assert reasons["Graph Learning at Scale"] == "related to: graph neural networks"
