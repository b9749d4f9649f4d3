"""What the ledger keeps of a digest plan (``deliveries.why``) lays the digest out again: the same
order, headings and reasons, after a JSON round trip, for rows written before layouts were
kept, and when a paper has been forgotten since; and a reader who only liked papers gets a
personal plan (reasons shown), not the trending one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from digest.compose.plan import DigestPlan
from digest.sending.ledger.layout import Layout
from papercore.papers import Paper
from subscribers.model import Example
from tests.compose_support import paper, pick, prepared, subscriber

TOPICS = ("graph neural networks", "diffusion")


def planned() -> tuple[list[Paper], Layout, DigestPlan]:
    papers = [paper(i) for i in range(1, 6)]
    whys = [
        ("matches: graph neural networks",),
        ("matches: diffusion",),
        ("matches: graph neural networks",),
        ("related to: something else",),
        ("matches: diffusion", "like: Deep graph networks, part 1"),
    ]
    issue = prepared(papers)
    picks = [pick(p, w) for p, w in zip(papers, whys, strict=True)]
    plan = issue.plan(subscriber(topics=TOPICS), picks)
    return papers, Layout.of(plan), plan


def test_a_layout_read_back_is_the_plan_it_recorded() -> None:
    papers, layout, plan = planned()
    # the lead, then groups in the order of their best pick, the ungrouped last
    assert [i[-1] for i in plan.paper_ids] == ["1", "2", "5", "3", "4"]
    assert [c.heading for c in plan.cards] == [
        None,
        "diffusion",
        None,
        "graph neural networks",
        "More for you",
    ]
    stored = json.loads(json.dumps(layout.as_json()))  # what a JSON column gives back
    again = Layout.from_json(stored).plan(plan.paper_ids, {p.id: p for p in papers})
    assert again == plan


def test_a_forgotten_paper_passes_its_heading_to_the_next_of_its_group() -> None:
    papers, layout, plan = planned()
    ids = plan.paper_ids
    kept = {p.id: p for p in papers if p.id != ids[1]}  # the first of the "diffusion" group
    again = layout.plan(ids, kept)
    assert ids[1] not in again.paper_ids
    assert [c.heading for c in again.cards] == [
        None,
        "diffusion",
        "graph neural networks",
        "More for you",
    ]


def test_rows_from_before_layouts_keep_their_order_and_reasons() -> None:
    papers = [paper(1), paper(2)]
    old = [["matches: graphs"], ["related to: nets"]]
    again = Layout.from_json(old).plan([p.id for p in papers], {p.id: p for p in papers})
    assert again.paper_ids == (papers[0].id, papers[1].id)
    assert [c.why for c in again.cards] == [("matches: graphs",), ("related to: nets",)]
    assert Layout.from_json(None).plan([], {}).cards == ()


def test_a_reader_who_only_liked_papers_gets_a_personal_plan() -> None:
    papers = [paper(1), paper(2)]
    liked = replace(
        subscriber(topics=()),
        examples=(Example(papers[0].id, 1, datetime(2026, 11, 1, tzinfo=UTC)),),
    )
    picks = [pick(papers[1], ("like: Deep graph networks, part 1",)), pick(papers[0], ())]
    plan = prepared(papers).plan(liked, picks)
    assert plan.mode == "personal" and plan.cards[0].why == ("like: Deep graph networks, part 1",)
    nobody = prepared(papers).plan(subscriber(topics=()), picks)
    assert nobody.mode == "trending" and not any(c.why for c in nobody.cards)
