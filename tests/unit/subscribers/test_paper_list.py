"""Reading lists of liked papers: lines, BibTeX, Zotero CSV (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from papercore.papers import Paper, title_hash
from subscribers.model import SeedText
from subscribers.paper_list import (
    MAX_ENTRIES,
    Cited,
    PaperList,
    find_arxiv,
    parse_bibtex,
    parse_lines,
    parse_zotero_csv,
    read_paper_list,
)
from subscribers.seeding import SeedLimits, look_up, plan_seed

BIBTEX = r"""
@string{nips = "Advances in NeurIPS"}
@article{vaswani2017,
  title     = {Attention {Is} All You Need},
  author    = {Vaswani, Ashish and Shazeer, Noam},
  eprint    = {1706.03762},
  archivePrefix = {arXiv},
  abstract  = {The dominant sequence transduction models ...},
}
@inproceedings{g\"odel,
  title = "On G{\"o}del machines \& self-improvement",
  booktitle = nips,
  abstract = {A machine that rewrites itself.},
}
@misc{preprint, title={Tiny transformers}, journal={arXiv preprint arXiv:2301.00001}}
@comment{ignored}
@article{broken, title={Never closed
"""

ZOTERO = (
    '"Key","Item Type","Publication Year","Author","Title","Publication Title","DOI","Url",'
    '"Abstract Note","Extra"\n'
    '"AB12","preprint","2024","Lovelace, Ada; Turing, Alan","Graph networks for molecules","",'
    '"10.48550/arXiv.2406.00001","","Molecules, as graphs.",""\n'
    '"CD34","journalArticle","2023","Hopper, Grace","A compiler story","Journal","","",'
    '"Compilers.","arXiv: 2305.12345"\n'
    '"EF56","book","2020","","","","","","",""\n'
)


def test_lines_take_ids_links_and_titles() -> None:
    listed = parse_lines(
        "# my papers\n2406.00001\nhttps://arxiv.org/abs/2406.00002v3\n\n"
        "https://arxiv.org/pdf/2406.00003.pdf\narXiv:2406.00004\n  A   title\twith spaces \n"
    )
    assert [c.arxiv for c in listed.cited] == [
        "2406.00001",
        "2406.00002",
        "2406.00003",
        "2406.00004",
        None,
    ]
    assert listed.cited[-1] == Cited("A title with spaces", title="A title with spaces")


def test_find_arxiv_in_free_text() -> None:
    assert find_arxiv("10.48550/arXiv.2106.09685") == "2106.09685"
    assert find_arxiv("see arXiv 2106.09685v2 for details") == "2106.09685"
    assert find_arxiv("a title about 2106 things") is None


def test_bibtex_entries_with_ids_latex_and_a_broken_block() -> None:
    listed = parse_bibtex(BIBTEX)
    first, second, third = listed.cited
    assert first.arxiv == "1706.03762" and first.title == "Attention Is All You Need"
    assert first.authors == ("Vaswani, Ashish", "Shazeer, Noam")
    assert first.abstract.startswith("The dominant")
    assert second.arxiv is None and second.title == "On Gödel machines & self-improvement"
    assert third.arxiv == "2301.00001" and third.abstract == ""
    (broken,) = listed.unreadable
    assert broken.startswith("BibTeX entry ") and " was not read: " in broken


def test_zotero_csv_rows() -> None:
    listed = parse_zotero_csv(ZOTERO)
    graph, compiler = listed.cited
    assert graph.arxiv == "2406.00001" and graph.authors == ("Ada Lovelace", "Alan Turing")
    assert graph.abstract == "Molecules, as graphs."
    assert compiler.arxiv == "2305.12345" and compiler.title == "A compiler story"


def test_the_format_is_recognised_from_the_content() -> None:
    assert read_paper_list("\ufeff" + ZOTERO).cited[0].arxiv == "2406.00001"
    assert read_paper_list(BIBTEX).cited[0].arxiv == "1706.03762"
    assert read_paper_list("Attention is all you need").cited[0].title == (
        "Attention is all you need"
    )


def test_a_list_past_the_limits_is_cut_and_the_plan_says_so_in_one_line() -> None:
    listed = read_paper_list("\n".join(f"title {n}" for n in range(MAX_ENTRIES + 7)))
    assert len(listed.cited) == MAX_ENTRIES and listed.cut == 7
    shorter = listed.first(50)
    assert [c.title for c in shorter.cited] == [f"title {n}" for n in range(50)]
    assert shorter.cut == MAX_ENTRIES + 7 - 50
    plan = look_up(EmptyShelf(), read_paper_list(BIBTEX_OF_120), SeedLimits(per_list=50))
    assert len(plan.private) == 50 and plan.cut == 70
    assert plan.summary() == (
        "Liked 50 papers: “Made-up paper 0”, “Made-up paper 1”, “Made-up paper 2” and 47 more"
        " (50 from your list, kept for you only)."
        " Only the first 50 papers of a list are read: 70 more were left out."
    )


BIBTEX_OF_120 = "\n".join(
    f"@article{{k{n}, title={{Made-up paper {n}}}, abstract={{Text {n}.}}}}" for n in range(120)
)


class EmptyShelf:
    def by_ids(self, ids: Sequence[str]) -> dict[str, Paper]:
        return {}

    def by_titles(self, titles: Sequence[str]) -> dict[str, Paper]:
        return {}


def test_control_characters_and_huge_fields_are_tamed() -> None:
    (cited,) = parse_lines("Bad\x00title\x1b[31m " + "x" * 900).cited
    assert "\x00" not in cited.title and "\x1b" not in cited.title and len(cited.title) == 500


def test_plan_likes_stored_papers_keeps_ones_with_abstracts_privately_and_lists_the_rest() -> None:
    stored = Paper("2406.00001", "Graph networks for molecules", "Stored abstract.")
    titled = Paper("t:abc", "Attention Is All You Need", "Stored.")
    listed = PaperList(
        (
            Cited("2406.00001", arxiv="2406.00001"),
            Cited("attention", title="ATTENTION is all you need!"),  # normalised title
            Cited("new", arxiv="2501.00001", title="A new one", abstract="Its abstract."),
            Cited("new again", title="A new one", abstract="Same title, same paper."),
            Cited("Only a title", title="Only a title"),
            Cited("2406.00001 again", arxiv="2406.00001"),
        ),
        ("BibTeX entry at line 9 could not be read",),
    )
    plan = plan_seed(listed, {stored.id: stored}, {title_hash(titled.title): titled})
    assert [p.id for p in plan.liked] == ["2406.00001", "t:abc"]
    assert plan.private == (SeedText("A new one", "Its abstract.", (), "2501.00001"),)
    assert plan.missing == ("BibTeX entry at line 9 could not be read", "Only a title")
    assert plan.summary() == (
        "Liked 3 papers: “Graph networks for molecules”, “Attention Is All You Need” and"
        " “A new one” (1 from your list, kept for you only). Not found (2):"
    )
