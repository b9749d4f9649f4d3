"""What a subscriber notices about their picks: relevant, explained, varied, never repeated."""

from __future__ import annotations

from subscribers.model import Interest
from tests.unit.ranking.support import BACKGROUND, NOW, lexical, paper

GNN = Interest("topic", "graph neural networks")


def titles(picks: list) -> list[str]:  # type: ignore[type-arg]
    return [p.paper.title for p in picks]


def test_picks_match_the_topic_and_say_so() -> None:
    picks = lexical(BACKGROUND).rank([GNN], limit=3, now=NOW)
    assert set(titles(picks)[:2]) == {
        "Graph Neural Networks for Molecules",
        "Scaling Graph Neural Network Training",
    }
    assert picks[0].why[0] == "matches: graph neural networks"
    assert picks[0].relevance > 0 and picks[0].score >= picks[1].score


def test_popular_off_topic_paper_stays_below_the_floor() -> None:
    viral = paper(
        "Chatbots Write Poems", "A large language model writes rhyming poetry.", upvotes=900
    )
    ranker = lexical([*BACKGROUND, viral])
    assert viral.title not in titles(ranker.rank([GNN], limit=10, now=NOW))
    # ...but it leads the trending digest, explained by its upvotes.
    trending = ranker.rank([], limit=3, now=NOW)
    assert trending[0].paper == viral
    assert trending[0].why == ("trending: 900 upvotes",)
    assert trending[0].relevance == 0


def test_no_topics_gives_the_trending_digest_by_upvotes_and_comments() -> None:
    papers = [
        paper("Quiet Paper", "Nothing to see."),
        paper("Popular Paper", "Many people liked it.", upvotes=120),
        paper("Discussed Paper", "People argued about it.", upvotes=40, comments=30),
    ]
    picks = lexical(papers).rank([], limit=3, now=NOW)
    assert titles(picks)[2] == "Quiet Paper"
    reasons = {p.paper.title: p.why for p in picks}
    assert reasons["Popular Paper"] == ("trending: 120 upvotes",)
    assert reasons["Discussed Paper"] == ("trending: 40 upvotes",)


def test_near_duplicates_do_not_fill_the_top() -> None:
    twin_text = "Graph neural networks with message passing for molecule property prediction."
    twins = [paper(f"Message Passing Graph Neural Networks v{n}", twin_text) for n in (1, 2)]
    other = paper(
        "Forecasting Road Traffic",
        "Spatio-temporal graph neural networks predict road traffic from sensor readings.",
    )
    papers = [*twins, other]
    varied = titles(lexical(papers, diversity=0.5).rank([GNN], limit=2, now=NOW))
    assert other.title in varied and len(set(varied) & {t.title for t in twins}) == 1
    plain = titles(lexical(papers, diversity=0.0).rank([GNN], limit=2, now=NOW))
    assert set(plain) == {t.title for t in twins}


def test_delivered_papers_are_never_picked_again() -> None:
    ranker = lexical(BACKGROUND)
    first = ranker.rank([GNN], limit=2, now=NOW)
    again = ranker.rank([GNN], exclude={p.paper.id for p in first}, limit=10, now=NOW)
    assert not {p.paper.id for p in first} & {p.paper.id for p in again}


def test_muted_phrases_remove_papers() -> None:
    ranker = lexical(BACKGROUND)
    picks = ranker.rank([Interest("mute", "graph neural network")], limit=10, now=NOW)
    assert picks and not any("Graph Neural" in t for t in titles(picks))
    topical = ranker.rank([GNN, Interest("mute", "molecules")], limit=10, now=NOW)
    assert "Graph Neural Networks for Molecules" not in titles(topical)


def test_followed_authors_get_in_and_are_explained() -> None:
    hers = paper(
        "Bandits for Drug Trials", "Adaptive allocation of patients.", authors=("Ada M. Lovelace",)
    )
    ranker = lexical([*BACKGROUND, hers])
    picks = ranker.rank([GNN, Interest("author", "Ada Lovelace")], limit=3, now=NOW)
    mine = [p for p in picks if p.paper == hers]
    assert mine and "by an author you follow" in mine[0].why
    assert hers not in [p.paper for p in ranker.rank([GNN], limit=10, now=NOW)]


def test_each_topic_counts_on_its_own() -> None:
    picks = lexical(BACKGROUND).rank(
        [GNN, Interest("topic", "diffusion models"), Interest("topic", "wireless networks")],
        limit=4,
        now=NOW,
    )
    top = titles(picks)[:4]
    assert "Diffusion Models for Image Synthesis" in top
    assert "Power Allocation in Wireless Networks" in top


def test_interest_weight_orders_topics() -> None:
    ranker = lexical(BACKGROUND)
    heavy = ranker.rank(
        [Interest("topic", "diffusion models", 1.0), Interest("topic", "pruning", 0.3)],
        limit=2,
        now=NOW,
    )
    assert titles(heavy)[0] == "Diffusion Models for Image Synthesis"
    swapped = ranker.rank(
        [Interest("topic", "diffusion models", 0.3), Interest("topic", "pruning", 1.0)],
        limit=2,
        now=NOW,
    )
    assert titles(swapped)[0] == "Pruning Convolutional Networks"


def test_less_like_this_pushes_a_topic_down() -> None:
    ranker = lexical(BACKGROUND)
    liked = [Interest("topic", "neural networks")]
    before = titles(ranker.rank(liked, limit=10, now=NOW))
    after = titles(ranker.rank([*liked, Interest("topic", "graph", -1.0)], limit=10, now=NOW))
    assert before.index("Pruning Convolutional Networks") > 0
    assert after[0] == "Pruning Convolutional Networks"


def test_empty_store_and_zero_limit() -> None:
    assert lexical([]).rank([GNN], limit=10, now=NOW) == []
    assert lexical(BACKGROUND).rank([GNN], limit=0, now=NOW) == []
