from __future__ import annotations

from datetime import UTC, date, datetime

from papercore.papers import Paper, arxiv_id, merge, paper_id_for, title_key


def test_title_key_folds_case_whitespace_punctuation_and_unicode() -> None:
    assert title_key("DεpS: Delayed ε-Shrinking") == title_key("dεps —  delayed   ε shrinking")
    assert title_key("Café Networks") == title_key("CAFE networks")
    assert title_key("ＦｕｌｌＷｉｄｔｈ Title") == title_key("fullwidth title")
    assert title_key("A/B") != title_key("AB")


def test_arxiv_ids_are_recognised_without_versions() -> None:
    assert arxiv_id("http://arxiv.org/abs/2510.01234v2") == "2510.01234"
    assert arxiv_id("2402.03142") == "2402.03142"
    assert arxiv_id("hep-th/9901001v1") == "hep-th/9901001"
    assert arxiv_id("not-an-id") is None


def test_ids_prefer_arxiv_else_a_stable_title_hash() -> None:
    assert paper_id_for("Anything", "2402.03142") == "2402.03142"
    assert paper_id_for("A  Title!", None) == paper_id_for("a title", None)
    assert paper_id_for("A Title", None).startswith("t:")


def test_merge_keeps_first_sighting_and_takes_newest_counts_and_arxiv_id() -> None:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    old = Paper(
        id=paper_id_for("T", None),
        title="T",
        abstract="short",
        author_count=3,
        published=date(2024, 1, 1),
        sources=("page",),
        first_seen=seen,
    )
    new = Paper(
        id="2401.00001",
        title="T",
        abstract="a longer abstract",
        authors=("A", "B"),
        upvotes=5,
        comments=1,
        code_url="https://github.com/x/y",
        sources=("hf",),
    )
    merged = merge(old, new)
    assert merged.id == "2401.00001"
    assert merged.first_seen == seen
    assert merged.abstract == "a longer abstract"
    assert merged.author_count == 3 and merged.authors == ("A", "B")
    assert (merged.upvotes, merged.comments) == (5, 1)
    assert merged.sources == ("page", "hf")
    assert merge(merged, new) == merged  # idempotent


def test_merge_keeps_project_page_and_thumbnail_from_either_sighting() -> None:
    listed = Paper(id="2401.00001", title="T", sources=("page",))
    hf = Paper(
        id="2401.00001",
        title="T",
        project_url="https://lab.example.org/t",
        thumbnail_url="https://cdn.example.org/t.png",
        sources=("hf",),
    )
    merged = merge(listed, hf)
    assert merged.project_url == "https://lab.example.org/t"
    assert merged.thumbnail_url == "https://cdn.example.org/t.png"
    assert merge(merged, listed) == merged  # a later sighting without them keeps them


def test_link_falls_back_to_a_title_search_for_pages_without_ids() -> None:
    assert Paper(id="2402.03142", title="T").link == "https://huggingface.co/papers/2402.03142"
    search = Paper(id=paper_id_for("A & B", None), title="A & B").link
    assert search.startswith("https://arxiv.org/search/") and "A+%26+B" in search
