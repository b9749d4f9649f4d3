"""The extractive summary: the sentences that say what a paper does, verbatim and short."""

from __future__ import annotations

from digest.compose.summary import sentences, summarise

ABSTRACT = (
    "Large language models have shown strong results on many tasks. However, they remain "
    "costly to serve. We propose TinyServe, a scheduler that batches requests by prefix, "
    "e.g. shared system prompts. Experiments on three workloads show that TinyServe reduces "
    "latency by 41% compared to vLLM. We also discuss limitations."
)


def test_the_contribution_and_its_result_are_kept_in_order() -> None:
    summary = summarise(ABSTRACT)
    assert summary == (
        "We propose TinyServe, a scheduler that batches requests by prefix, e.g. shared system "
        "prompts. Experiments on three workloads show that TinyServe reduces latency by 41% "
        "compared to vLLM."
    )


def test_every_sentence_of_a_summary_is_in_the_abstract() -> None:
    for sentence in sentences(summarise(ABSTRACT)):
        assert sentence in ABSTRACT


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = "We follow Smith et al. in this. The method of J. Doe works, i.e. it converges."
    assert sentences(text) == [
        "We follow Smith et al. in this.",
        "The method of J. Doe works, i.e. it converges.",
    ]


def test_summaries_stay_within_the_limit() -> None:
    long = "We introduce " + "a very long contribution statement " * 30 + "."
    summary = summarise(long, limit=200)
    assert len(summary) <= 200 and summary.endswith("…")
    assert len(summarise(ABSTRACT, limit=140)) <= 140


def test_empty_or_missing_abstracts_give_no_summary() -> None:
    assert summarise("") == "" and summarise(None) == "" and summarise("   ") == ""


def test_a_single_sentence_is_returned_as_it_is() -> None:
    assert summarise("A short abstract about graphs.") == "A short abstract about graphs."
