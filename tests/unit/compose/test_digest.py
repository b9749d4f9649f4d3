"""The digest: every variant renders, stays in budget, reads well as text, escapes hostile text."""

from __future__ import annotations

import re

import pytest

from digest.compose import Composer
from digest.compose.cards import card_view, short_authors
from digest.compose.notices import render_notice
from tests.compose_support import (
    HOSTILE_TITLE,
    compose_settings,
    issue,
    links,
    paper,
    pick,
    prepared,
    subscriber,
    validate_mjml,
)

SIZES = {"empty": 0, "one": 1, "realistic": 10, "fifty": 50}


@pytest.mark.parametrize("frequency", ["daily", "weekly"])
@pytest.mark.parametrize("size", list(SIZES))
def test_every_digest_variant_renders_with_its_text_twin(size: str, frequency: str) -> None:
    n = SIZES[size]
    papers = [paper(i, long=size == "fifty") for i in range(n)]
    sub = subscriber(frequency=frequency)
    message = prepared(papers, frequency=frequency).message(
        sub, [pick(p) for p in papers], links(sub)
    )
    assert message.html.startswith("<!doctype html>")
    assert len(message.html.encode()) <= 90_000
    assert ("Weekly digest" if frequency == "weekly" else "Daily digest") in message.text
    if n == 0:
        assert "No new papers matched your interests" in message.html
        assert "No new papers matched your interests" in message.text
    else:
        assert papers[0].title[:20] in message.html
        assert papers[0].title[:20] in message.text
        assert "papers picked for you" in message.text or "1 paper picked" in message.text
    for text in (message.html, message.text):
        assert "/unsubscribe/" in text and "/preferences/" in text and "/view/" in text
        assert "1 Example Street" in text
        assert "PD" + "x" not in text and not re.search(r"PD[0-9a-f]{12}[BES]", text)


def test_fifty_long_papers_overflow_into_a_link_within_budget() -> None:
    papers = [paper(i, long=True) for i in range(50)]
    sub = subscriber()
    message = prepared(papers).message(sub, [pick(p) for p in papers], links(sub))
    size = len(message.html.encode())
    assert 60_000 < size <= 90_000
    shown = message.html.count("/feedback/") // 2
    assert 5 < shown < 50
    assert f"{50 - shown} more papers picked for you" in message.html
    assert f"{50 - shown} more papers picked for you" in message.text
    assert message.text.count("More like this:") == shown


def test_a_smaller_budget_moves_more_papers_to_the_link() -> None:
    papers = [paper(i) for i in range(10)]
    sub = subscriber()
    settings = compose_settings(templates={"html_budget_bytes": 20_000})
    message = prepared(papers, settings).message(sub, [pick(p) for p in papers], links(sub))
    assert len(message.html.encode()) <= 20_000
    assert "more papers picked for you" in message.html


def test_card_content_badges_authors_why_and_feedback_links() -> None:
    p = paper(2, ai_summary="A short AI summary.")
    sub = subscriber()
    message = prepared([p]).message(sub, [pick(p, ("matches: graphs", "trending"))], links(sub))
    for text in (message.html, message.text):
        assert "A. Smith, B. Jones, C. King et al." in text
        assert "12 upvotes" in text and "2 comments" in text
        assert "matches: graphs · trending" in text
        assert "AI summary" not in text  # the summary is taken from the abstract
        assert "graph neural networks scale message passing" in text
        assert "https://github.com/lab/p2" in text  # http made https
        assert "https://arxiv.org/pdf/2611.00002" in text
        assert "https://huggingface.co/papers/2611.00002" in text  # the title's link
    assert "https://arxiv.org/abs/2611.00002" in message.html  # "Paper · PDF · Code"
    assert message.html.count("/feedback/") == 2
    assert "http://" not in message.html.replace('xmlns="http://', "").replace(
        'xmlns:v="urn', ""
    ).replace("http://www.w3.org", "")


def test_project_link_and_the_lead_story_thumbnail() -> None:
    media = {
        "project_url": "https://lab.example.org/p?a=1&b=2",
        "thumbnail_url": "https://cdn.example.org/thumb.png?x=1&y=2",
    }
    lead, second = paper(1, title="Graphs & <friends>", **media), paper(2, **media)
    hostile = paper(3, project_url="javascript:alert(1)", thumbnail_url="data:image/png,x")
    sub = subscriber()
    picks = [pick(lead), pick(second), pick(hostile)]
    message = prepared([lead, second, hostile]).message(sub, picks, links(sub))
    page = message.html
    assert page.count(">Project</a>") == 2  # beside "Paper · PDF · Code", when known
    assert 'href="https://lab.example.org/p?a=1&amp;b=2"' in page
    assert "https://lab.example.org/p?a=1&b=2" in message.text
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 1  # the lead only
    assert 'src="https://cdn.example.org/thumb.png?x=1&amp;y=2"' in images[0]
    assert 'alt="Graphs &amp; &lt;friends&gt;"' in images[0]
    assert 'width="552"' in images[0]
    assert "javascript:" not in page and "data:image" not in page
    archive = prepared([second, lead]).generic_html([pick(second), pick(lead)])
    assert archive.count("<img ") == 1 and "thumb.png" in archive  # the archive's lead


def test_authors_are_shortened_or_counted() -> None:
    assert short_authors(["Ada Lovelace"], None) == "A. Lovelace"
    assert short_authors([], 12) == "12 authors"
    assert short_authors(["Ann Bee", "Cy Dee", "Ed Eff", "Gi Hi", "Io Jo"], 40) == (
        "A. Bee, C. Dee, E. Eff et al."
    )
    assert short_authors(["Ann Bee", "Cy Dee", "Ed Eff"], 3) == "A. Bee, C. Dee, E. Eff"


def test_text_part_wraps_at_78_columns_except_links() -> None:
    papers = [paper(i, long=True) for i in range(5)]
    sub = subscriber()
    message = prepared(papers).message(sub, [pick(p) for p in papers], links(sub))
    for line in message.text.splitlines():
        assert len(line) <= 78 or "https://" in line, line
    assert "<" not in message.text.replace("<script>", "")


def test_hostile_paper_text_is_escaped_everywhere() -> None:
    p = paper(1, title=HOSTILE_TITLE, abstract="<img src=x onerror=alert(1)> & <b>bold</b>")
    sub = subscriber()
    message = prepared([p]).message(sub, [pick(p, ("<i>why</i> & more",))], links(sub))
    assert "<script>" not in message.html and "<img src=x" not in message.html
    assert "&lt;script&gt;" in message.html and "&lt;img src=x" in message.html
    assert "&lt;i&gt;why&lt;/i&gt; &amp; more" in message.html
    assert "\u202e" not in message.html + message.text + message.subject
    assert "🧪" in message.html and "🧪" in message.text
    assert "<script>" in message.text  # plain text shows it as text
    assert "\r" not in message.subject and "\n" not in message.subject
    assert len(message.subject) <= 140


def test_generic_html_for_the_archive_has_no_personal_links() -> None:
    papers = [paper(i) for i in range(3)]
    page = prepared(papers).generic_html([pick(p) for p in papers])
    assert all(p.title in page for p in papers)
    assert "/unsubscribe/" not in page and "/feedback/" not in page
    assert "All issues" in page and "3 papers in this issue" in page


def test_picks_outside_the_prepared_papers_are_rendered_on_demand() -> None:
    sub = subscriber()
    late = paper(99)
    message = prepared([paper(1)]).message(sub, [pick(late)], links(sub))
    assert late.title in message.html and late.title in message.text


def test_operator_templates_override_single_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "email" / "partials").mkdir(parents=True)
    (tmp_path / "email" / "partials" / "address.txt.j2").write_text("OPERATOR FOOTER\n")
    settings = compose_settings(templates={"dir": str(tmp_path)})
    sub = subscriber()
    message = prepared([paper(1)], settings).message(sub, [pick(paper(1))], links(sub))
    assert "OPERATOR FOOTER" in message.text
    assert "1 Example Street" in message.html  # the rest is the built-in set


def test_mjml_from_every_template_passes_the_official_validator_in_strict_mode() -> None:
    composer = Composer(compose_settings())
    documents = {}
    for name, n in SIZES.items():
        papers = [paper(i, long=name == "fifty") for i in range(n)]
        if name == "one":
            papers = [paper(1, title=HOSTILE_TITLE)]
        if name == "realistic":  # the lead's thumbnail and a project link
            papers[0] = paper(
                0, thumbnail_url="https://cdn.example.org/t.png", project_url="https://a.example"
            )
        for frequency in ("daily", "weekly"):
            cards = [card_view(p) for p in papers]
            documents[f"digest-{name}-{frequency}"] = composer.render_sources(
                issue(frequency), cards
            )[0]
    for kind in ("confirm", "welcome", "unsubscribed"):
        _, source, text = render_notice(
            composer, kind, action_url="https://digest.example.org/x", unsubscribe_url=None
        )
        assert text.strip()
        documents[kind] = source
    errors = validate_mjml(documents)
    assert errors == {name: [] for name in documents}
