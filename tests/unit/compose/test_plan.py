"""The layout of one subscriber's digest: lead, topic groups, subject, preheader, recency."""

from __future__ import annotations

from digest.compose.plan import lead_label, place, preheader, subject_line, topic_of
from tests.compose_support import paper, pick

TOPICS = ("graph neural networks", "video generation")


def test_the_lead_then_groups_under_the_topic_their_reasons_name() -> None:
    picks = [
        pick(paper(0), ("matches: graph neural networks",)),
        pick(paper(1), ("related to video generation",)),
        pick(paper(2), ("like: Some earlier paper",)),
        pick(paper(3), ("matches: graph neural networks", "trending: 40 upvotes")),
        pick(paper(4), ("matches: video generation",)),
    ]
    placed = place(picks, TOPICS, trending=False)
    assert placed[0].lead and placed[0].pick is picks[0]
    order = [(p.pick.paper.id[-1], p.heading) for p in placed[1:]]
    assert order == [
        ("1", "video generation"),
        ("4", None),
        ("3", "graph neural networks"),
        ("2", "More for you"),
    ]


def test_topics_match_whole_words_only() -> None:
    assert topic_of(("matches: training",), ("ai",)) is None
    assert topic_of(("matches: AI safety",), ("ai",)) == "ai"


def test_the_trending_digest_is_one_ranked_list() -> None:
    picks = [pick(paper(i), ("new: listed Nov 06",)) for i in range(3)]
    placed = place(picks, (), trending=True)
    assert [p.heading for p in placed] == [None, "Also trending", None]


def test_subject_names_the_best_match_in_60_characters_plus_the_rest() -> None:
    title = "LayerCraft: Enhancing Text-to-Image Generation with CoT Reasoning and Layered Object"
    line = subject_line(title, 10, "Paper Digest")
    assert line.endswith(" +9 more") and len(line.removesuffix(" +9 more")) <= 60
    assert "2026" not in line
    assert subject_line("Short", 1, "Paper Digest") == "Short"
    assert subject_line(None, 0, "Paper Digest") == "No new papers this time · Paper Digest"


def test_preheader_lists_the_next_picks_not_the_first() -> None:
    picks = [pick(paper(i)) for i in range(4)]
    line = preheader(picks, TOPICS, trending=False)
    assert line.startswith("Also: Deep graph networks, part 1")
    assert "part 0" not in line and len(line) <= 140
    assert preheader(picks[:1], TOPICS, trending=False) == (
        "For your topics: graph neural networks, video generation"
    )
    assert preheader(picks[:1], (), trending=True).startswith("Trending this week")


def test_the_trending_digest_groups_by_theme_when_two_papers_share_one() -> None:
    picks = [pick(paper(i), ()) for i in range(6)]
    themes = {
        picks[1].paper.id: "Graph learning",
        picks[2].paper.id: "Robotics",
        picks[3].paper.id: "Graph learning",
        picks[4].paper.id: None,
        picks[5].paper.id: "Robotics",
        picks[0].paper.id: "Quantum machine learning",
    }
    placed = place(picks, (), trending=True, themes=themes)
    assert placed[0].lead and placed[0].pick is picks[0]
    order = [(p.pick.paper.id[-1], p.heading) for p in placed[1:]]
    assert order == [
        ("1", "Graph learning"),
        ("3", None),
        ("2", "Robotics"),
        ("5", None),
        ("4", "Also trending"),
    ]


def test_a_theme_of_one_paper_gets_no_heading_of_its_own() -> None:
    picks = [pick(paper(i), ()) for i in range(4)]
    themes = {picks[1].paper.id: "Robotics", picks[2].paper.id: "Graph learning"}
    placed = place(picks, (), trending=False, public=True, themes=themes)
    assert [p.heading for p in placed] == [None, "More in this issue", None, None]


def test_the_trending_lead_is_called_most_upvoted_only_when_it_is() -> None:
    quiet = [pick(paper(n, upvotes=None), ()) for n in range(3)]
    assert lead_label(quiet, "trending") == "Top of the issue"
    voted = [pick(paper(0, upvotes=40), ()), pick(paper(1, upvotes=12), ())]
    assert lead_label(voted, "trending") == "Most upvoted"
    behind = [pick(paper(0, upvotes=3), ()), pick(paper(1, upvotes=12), ())]
    assert lead_label(behind, "trending") == "Top of the issue"  # ranked first for recency
    assert lead_label(voted, "personal") == "Top pick for you"
