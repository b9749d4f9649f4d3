"""LaTeX made readable (issue 24): ``papercore.latex.readable`` on the shapes arXiv abstracts
carry, the text without LaTeX it must leave alone, and the ranking tokens it feeds."""

from __future__ import annotations

import re
import time

import pytest

from digest.compose.text import clean
from digest.ranking.text import tokens
from papercore.latex import readable

COMMAND = re.compile(r"\\[A-Za-z]+")
MATH = re.compile(r"(?<!\d)\$(?=\S)[^$]*\S\$")  # a "$...$" pair around math

EXAMPLES = {
    r"costs $O(n^2)$ time": "costs O(n²) time",
    r"$\alpha$-$\beta$ pruning": "α-β pruning",
    r"the square $x^2$ and $x_i$": "the square x² and xᵢ",
    r"a loss $\mathcal{L}$": "a loss ℒ",
    r"$\mathcal{L}_{\text{CE}}$": "ℒ_CE",
    r"a ratio $\frac{a}{b}$": "a ratio a/b",
    r"reaches 75.3\% top-1 accuracy": "reaches 75.3% top-1 accuracy",
    r"an apparently na\"{\i}ve ensemble": "an apparently naïve ensemble",
    r"spent on {\emph compression} of the input": "spent on compression of the input",
    r"we \emph{propose} a method": "we propose a method",
    r"as shown before~\cite{smith2020}.": "as shown before.",
    r"we propose \tool, which": "we propose tool, which",
    r"$x^{n+1}$ and $\theta_{t+1}$": "xⁿ⁺¹ and θₜ₊₁",
    r"in $O(n \log n)$ time": "in O(n log n) time",
    r"$\mathbb{R}^d$": "ℝᵈ",
    r"Polyak-\L ojasiewicz": "Polyak-Łojasiewicz",
    r"a 50% gain \emph{and} the rest": "a 50% gain and the rest",
    r"It costs $5 and $10, or \emph{less}": "It costs $5 and $10, or less",
}


@pytest.mark.parametrize("latex", EXAMPLES)
def test_latex_reads_as_text(latex: str) -> None:
    assert readable(latex) == EXAMPLES[latex]


@pytest.mark.parametrize(
    "text",
    [
        "Plain prose with no markup at all.",
        "It costs $5 and $10 a month.",
        "x^2 outside math stays as typed",
        "snake_case_names and {braces} stay",
        "Ünïcödé   spacing  stays byte-identical",
        "",
    ],
)
def test_text_without_latex_is_returned_unchanged(text: str) -> None:
    assert readable(text) is text


def test_a_script_without_a_glyph_stays_legible() -> None:
    assert readable(r"$x^{\dagger}$") == "x^†"
    assert readable(r"$W_{CE}$") == "W_CE"
    assert readable(r"$a^{b c}$") == "a^(b c)"


@pytest.mark.parametrize(
    "broken",
    [r"\frac{", r"{" * 5000 + "x", r"\begin{foo}", "\\" * 101, r"$\alpha", r"\verb|x|"],
)
def test_broken_latex_never_raises_and_leaves_no_command(broken: str) -> None:
    shown = readable(broken)
    assert not COMMAND.search(shown) and not MATH.search(shown)


def test_a_long_text_is_converted_within_the_budget() -> None:
    text = r"We show $O(n^2)$ and \emph{fast} $\alpha_i^2$ bounds. " * 1_800  # ~100 KB
    start = time.perf_counter()
    shown = readable(text)
    assert time.perf_counter() - start < 0.25
    assert not COMMAND.search(shown) and not MATH.search(shown) and "O(n²)" in shown


def test_the_output_cleaner_makes_latex_readable() -> None:
    assert clean("  A \\emph{new}\x00 method for $\\alpha$ ") == "A new method for α"


def test_ranking_tokens_never_hold_a_latex_command() -> None:
    (words,) = tokens(
        [r"\emph{robust} graphs with {\em sparse} $\mathcal{L}_{\text{CE}}$ \cite{x}"]
    )
    assert "emph" not in words and "em" not in words and "cite" not in words
    assert "mathcal" not in words and "text" not in words
    assert {"robust", "graph", "spars"} <= set(words)
