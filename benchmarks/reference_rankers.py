"""Reference systems for feedback_quality.py: what others do with a subscriber's likes.

Each is ``rank(topics, liked ids, disliked ids, excluded ids) -> every other paper id, best
first``. Fusion is reciprocal-rank fusion (Cormack et al. 2009, k = 60) of full rankings.

- ``bm25``: plain BM25 of the joined topics (``rank_quality.plain_bm25``); feedback is ignored.
- ``svm+bm25``: arxiv-sanity-lite's recommendation (serve.py ``svm_rank``, compute.py features):
  tf-idf of "title | abstract" (sklearn, English stop words, words and word pairs, sublinear tf,
  l2 norm, min_df 5, max_df 0.1, at most 20,000 features) and per subscriber a
  ``LinearSVC(C=0.01, class_weight="balanced")`` with the liked papers positive and every other
  paper negative; its decision function RRF-fused with BM25. Disliked papers are negatives like
  all the others (arxiv-sanity-lite has no dislikes). Without likes it is BM25 alone.
- ``rocchio+bm25`` (``[semantic]``): all-MiniLM-L6-v2 vectors of "title. abstract"; the query is
  the joined topics' vector plus the mean of the liked papers' vectors (Rocchio, dislikes
  ignored), cosine, RRF-fused with BM25. Without likes: the topics' vector, i.e. the issue's
  "BM25 fused with MiniLM" reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from benchmarks.rank_quality import plain_bm25
from digest.ranking.semantic import MiniLMEncoder, paper_text
from papercore.papers import Paper

RRF_K = 60
Reference = Callable[[Sequence[str], Sequence[str], Sequence[str], Sequence[str]], list[str]]


def rrf(*orders: Sequence[int] | np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion score of every position, from full rankings (positions, best
    first)."""
    n = len(orders[0])
    score = np.zeros(n, dtype=np.float64)
    for order in orders:
        ranks = np.empty(n, dtype=np.float64)
        ranks[np.asarray(order)] = np.arange(1, n + 1)
        score += 1.0 / (RRF_K + ranks)
    return score


def _ranked(papers: Sequence[Paper], score: np.ndarray, exclude: Sequence[str]) -> list[str]:
    gone = set(exclude)
    return [papers[i].id for i in np.argsort(-score, kind="stable") if papers[i].id not in gone]


def references(papers: Sequence[Paper], semantic: bool) -> dict[str, Callable[[], Reference]]:
    """The reference systems by name, each built when called (the semantic one loads a model)."""
    found: dict[str, Callable[[], Reference]] = {
        "bm25 (topics only, reference)": lambda: bm25_only(papers),
        "svm+bm25 (arxiv-sanity-lite SVM, RRF; reference)": lambda: svm_bm25(papers),
    }
    if semantic:
        found["rocchio+bm25 (MiniLM Rocchio, RRF; reference)"] = lambda: rocchio_bm25(papers)
    return found


def _bm25_order(papers: Sequence[Paper]) -> Callable[[Sequence[str]], list[int]]:
    rank = plain_bm25(papers)
    row = {p.id: k for k, p in enumerate(papers)}
    return lambda topics: [row[i] for i in rank(topics)]


def bm25_only(papers: Sequence[Paper]) -> Reference:
    bm25 = _bm25_order(papers)

    def rank(
        topics: Sequence[str],
        liked: Sequence[str],
        disliked: Sequence[str],
        exclude: Sequence[str],
    ) -> list[str]:
        return _ranked(papers, rrf(bm25(topics)), exclude)

    return rank


def svm_bm25(papers: Sequence[Paper]) -> Reference:
    from sklearn import svm
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20_000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=5,
    )
    x = vectorizer.fit_transform([f"{p.title} | {p.abstract}" for p in papers])
    row = {p.id: k for k, p in enumerate(papers)}
    bm25 = _bm25_order(papers)

    def rank(
        topics: Sequence[str],
        liked: Sequence[str],
        disliked: Sequence[str],
        exclude: Sequence[str],
    ) -> list[str]:
        lexical = bm25(topics)
        if not liked:
            return _ranked(papers, rrf(lexical), exclude)
        y = np.zeros(len(papers), dtype=np.float32)
        y[[row[i] for i in liked]] = 1.0
        model = svm.LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01)
        model.fit(x, y)
        decision = model.decision_function(x)
        return _ranked(papers, rrf(lexical, np.argsort(-decision, kind="stable")), exclude)

    return rank


def rocchio_bm25(papers: Sequence[Paper]) -> Reference:
    encoder = MiniLMEncoder()
    vectors = encoder.encode([paper_text(p) for p in papers])
    row = {p.id: k for k, p in enumerate(papers)}
    bm25 = _bm25_order(papers)

    def rank(
        topics: Sequence[str],
        liked: Sequence[str],
        disliked: Sequence[str],
        exclude: Sequence[str],
    ) -> list[str]:
        query = encoder.encode([" ".join(topics)])[0]
        if liked:
            query = query + vectors[[row[i] for i in liked]].mean(axis=0)
        cosine = vectors @ (query / max(float(np.linalg.norm(query)), 1e-9))
        semantic = np.argsort(-cosine, kind="stable")
        return _ranked(papers, rrf(bm25(topics), semantic), exclude)

    return rank
