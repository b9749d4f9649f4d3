"""Themes for the trending digest: a heading never claims what the paper is not."""

from __future__ import annotations

from benchmarks.sample_papers import load_sample_papers
from digest.compose.themes import ENOUGH, theme_of, theme_scores
from digest.ranking.text import tokens
from tests.compose_support import paper


def test_a_paper_takes_the_theme_its_title_and_abstract_name() -> None:
    diffusion = paper(
        1,
        title="Prompt-based Pruning of Text-to-Image Diffusion Models",
        abstract="Text-to-image diffusion models generate images from prompts. We prune them.",
    )
    assert theme_of(diffusion) == "Image and video generation"
    robots = paper(2, title="Robots that learn to grasp", abstract="A robotic manipulation policy.")
    assert theme_of(robots) == "Robotics"


def test_word_forms_match_and_stray_mentions_do_not() -> None:
    assert theme_of(paper(3, title="Spiking networks at ultra low latency", abstract="")) == (
        "Spiking and brain-inspired networks"
    )
    # one passing mention in the abstract is not enough to file a paper under a theme
    passing = paper(4, title="A study of widths", abstract="Unlike graph methods, we study width.")
    assert theme_scores(passing.title, passing.abstract).get("Graph learning", 0) < ENOUGH
    assert theme_of(passing) is None


def test_every_sample_paper_with_a_theme_uses_its_words() -> None:
    """Honesty over the 288 real sample papers: each themed paper's text contains the stemmed
    words of at least one cue of its theme, and most papers get a theme."""
    from digest.compose.themes import THEMES

    cues = dict(THEMES)
    papers = load_sample_papers()
    themed = 0
    for p in papers:
        name = theme_of(p)
        if name is None:
            continue
        themed += 1
        text = " ".join(tokens([f"{p.title} {p.abstract}".replace("-", " ")])[0])
        stems = [" ".join(tokens([c.replace("-", " ")])[0]) for c in cues[name].split(",")]
        assert any(s and f" {s} " in f" {text} " for s in stems), (p.title, name)
    assert themed >= len(papers) * 0.7


def test_no_cue_loses_the_words_that_make_it_specific() -> None:
    """A cue of several words must keep several after tokenising ("q-learning" would become
    "learn", which every paper says)."""
    from digest.compose.themes import THEMES

    for name, cues in THEMES:
        for cue in (c.strip() for c in cues.split(",")):
            stems = tokens([cue.replace("-", " ")])[0]
            assert stems, (name, cue)
            assert len(stems) >= min(2, len(cue.replace("-", " ").split())), (name, cue, stems)
