"""Learning from clicks: likes bring similar papers up, dislikes push them down, and nothing a
subscriber clicks can saturate the scores or take away the topics they typed."""

from __future__ import annotations

from datetime import timedelta

from digest.ranking import Pick, RankedExample
from papercore.papers import Paper
from subscribers.model import Interest
from tests.unit.ranking.support import NOW, lexical, paper

GRAPHS = [
    paper(
        f"Graph Neural Networks for {what}",
        f"Message passing graph neural networks learn node embeddings for {what}.",
    )
    for what in ("molecules", "traffic forecasting", "social recommendation", "fraud detection")
]
SPIKING = [
    paper(
        f"Spiking Neural Networks on {chip}",
        f"Event-driven spiking neurons with surrogate gradients run on {chip} hardware.",
    )
    for chip in ("Loihi", "TrueNorth", "SpiNNaker", "neuromorphic FPGA")
]
DIFFUSION = [
    paper(
        f"Diffusion Models for {what}",
        f"Denoising diffusion probabilistic models generate {what} from noise.",
    )
    for what in ("image synthesis", "audio", "video", "molecules")
]
POOL = [*GRAPHS, *SPIKING, *DIFFUSION]
DIFF = Interest("topic", "diffusion models")


def liked(papers: list[Paper], vote: int = 1, days_ago: float = 1.0) -> list[RankedExample]:
    return [RankedExample(p, vote, NOW - timedelta(days=days_ago)) for p in papers]


def titles(picks: list[Pick]) -> list[str]:
    return [p.paper.title for p in picks]


def test_a_like_brings_similar_papers_in_and_says_which_paper_they_are_like() -> None:
    ranker = lexical(POOL)
    before = ranker.rank([DIFF], limit=6, now=NOW)
    assert not any("Spiking" in t for t in titles(before))
    after = ranker.rank(
        [DIFF], examples=liked(SPIKING[:1]), exclude={SPIKING[0].id}, limit=6, now=NOW
    )
    spiking = [p for p in after if "Spiking" in p.paper.title]
    assert spiking, titles(after)
    assert spiking[0].why[0] == f"like: {SPIKING[0].title}"


def test_no_amount_of_liking_saturates_or_removes_the_typed_topic() -> None:
    ranker = lexical(POOL)
    for clicks in (1, 10, 100):
        # the same spiking papers liked again and again (clicks on different days)
        examples = [
            RankedExample(SPIKING[k % 2], 1, NOW - timedelta(hours=k)) for k in range(clicks)
        ]
        picks = ranker.rank([DIFF], examples=examples, limit=6, now=NOW)
        assert all(0.0 <= p.relevance <= 1.0 for p in picks)
        assert all(p.score <= 2.0 for p in picks)  # relevance x (1 + trending lift) at most
        assert any(p.paper in DIFFUSION for p in picks), (clicks, titles(picks))
        if clicks >= 10:
            assert any(p.paper in SPIKING for p in picks)


def test_many_distinct_likes_never_take_more_than_their_share() -> None:
    ranker = lexical(POOL)
    few = ranker.rank([DIFF], examples=liked(SPIKING[:1]), limit=12, now=NOW)
    many = ranker.rank([DIFF], examples=liked(SPIKING * 25), limit=12, now=NOW)
    top_diffusion = max(p.relevance for p in many if p.paper in DIFFUSION)
    assert top_diffusion >= 0.5 * max(p.relevance for p in few if p.paper in DIFFUSION)


def test_a_dislike_sinks_similar_papers_without_removing_the_topic() -> None:
    ranker = lexical(POOL)
    gnn = [Interest("topic", "graph neural networks"), DIFF]
    before = ranker.rank(gnn, limit=8, now=NOW)
    after = ranker.rank(gnn, examples=liked(GRAPHS[:1], vote=-1), limit=8, now=NOW)
    position = {t: k for k, t in enumerate(titles(after))}
    assert any(p.paper in GRAPHS for p in after)  # the typed topic keeps its share
    graphs_before = [k for k, p in enumerate(before) if p.paper in GRAPHS[1:]]
    graphs_after = [position[p.paper.title] for p in after if p.paper in GRAPHS[1:]]
    assert sum(graphs_after) / len(graphs_after) > sum(graphs_before) / len(graphs_before)


def test_an_old_like_counts_less_than_a_fresh_one() -> None:
    ranker = lexical(POOL)

    def spiking_relevance(days_ago: float) -> float:
        picks = ranker.rank(
            [DIFF], examples=liked(SPIKING[:2], days_ago=days_ago), limit=12, now=NOW
        )
        return max((p.relevance for p in picks if p.paper in SPIKING[2:]), default=0.0)

    fresh, aging, old = spiking_relevance(1), spiking_relevance(60), spiking_relevance(730)

    assert 0 < aging < fresh
    assert old == 0.0  # two years on, the clicks no longer bring any in


def test_the_latest_vote_on_a_paper_wins() -> None:
    ranker = lexical(POOL)
    changed_mind = [
        RankedExample(SPIKING[0], 1, NOW - timedelta(days=2)),
        RankedExample(SPIKING[0], -1, NOW - timedelta(days=1)),
    ]
    picks = ranker.rank([DIFF], examples=changed_mind, limit=6, now=NOW)
    assert not any(p.why[0].startswith("like:") for p in picks)


def test_a_liked_paper_outside_the_pool_still_teaches() -> None:
    older = paper(
        "Spiking Neural Networks on Analog Chips",
        "Event-driven spiking neurons with surrogate gradients run on analog hardware.",
    )
    ranker = lexical(POOL)
    picks = ranker.rank([DIFF], examples=liked([older]), limit=6, now=NOW)
    assert any(p.paper in SPIKING for p in picks)
    assert any(f"like: {older.title}" in p.why for p in picks)


def test_likes_alone_make_a_digest_without_topics() -> None:
    ranker = lexical(POOL)
    picks = ranker.rank(
        [], examples=liked(GRAPHS[:2]), exclude={g.id for g in GRAPHS[:2]}, limit=3, now=NOW
    )
    assert {p.paper.title for p in picks[:2]} == {g.title for g in GRAPHS[2:]}
