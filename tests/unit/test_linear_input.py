"""Text that comes in is handled in time linear in its size (issue 22, "linear time everywhere
text comes in"). Each input below took seconds to minutes before (quadratic); the bounds are
ten times what the linear code needs on a loaded machine, and far below the quadratic time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from digest.sources import arxiv, hf_daily
from digest.sources.fetch import Document
from papercore.papers import Paper
from subscribers.keyphrases import paper_phrases
from subscribers.paper_list import read_paper_list
from tests.conftest import NOW

ENTRIES = 20_000


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def test_an_arxiv_feed_of_many_entries_is_parsed_in_linear_time() -> None:
    feed = (
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        + "".join(
            f"<entry><id>http://arxiv.org/abs/2401.{i:05d}v1</id><title>T{i}</title></entry>\n"
            for i in range(ENTRIES)
        )
        + "</feed>"
    )
    document = Document("feed.xml", feed.encode())
    assert seconds(lambda: arxiv.parse(document, NOW)) < 2.0  # 11 s before
    # entry lines are still right: entry k starts on line k + 2
    assert arxiv._entry_lines(feed)[:3] == [2, 3, 4] and arxiv._entry_lines(feed)[-1] == ENTRIES + 1


def test_a_daily_papers_list_of_many_items_is_parsed_in_linear_time() -> None:
    items = [{"paper": {"id": f"2401.{i:05d}", "title": f"T{i}"}} for i in range(ENTRIES)]
    text = "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]"
    document = Document("daily.json", text.encode())
    assert seconds(lambda: hf_daily.parse(document, NOW)) < 2.0  # 8 s before
    lines = hf_daily._item_lines(text)
    assert lines[:3] == [2, 3, 4] and lines[-1] == ENTRIES + 1


def test_a_pasted_list_of_blank_lines_is_read_in_linear_time() -> None:
    blank = "\n" * 60_000  # what the signup form's 64 KB body allows
    assert seconds(lambda: read_paper_list(blank + "2401.00001\n")) < 0.5  # 5 s before
    assert read_paper_list(blank + "  @article{k,\n title={A title}}\n").cited[0].title == "A title"


def test_key_phrases_of_a_huge_title_are_found_in_bounded_time() -> None:
    def word(i: int) -> str:
        letters = ""
        while True:
            letters += "bcdfghjklmnpqrstvwxz"[i % 20]
            i //= 20
            if not i:
                return "q" + letters

    title = ", ".join(f"{word(i)} {word(i)}y" for i in range(70_000))  # 1 MB, all distinct
    paper = Paper("x1", title, title)
    assert seconds(lambda: paper_phrases(paper)) < 1.0  # 24 s before
    assert paper_phrases(paper) and all(p in title for p in paper_phrases(paper))
