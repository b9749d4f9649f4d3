"""Ranking quality on the judged profiles in benchmarks/judgments.json.

Prints nDCG@10 and P@10 (share of the top ten graded 1 or 2) per profile and on average per split
(tune, heldout, test) for plain BM25 of the joined topics, the default (lexical) ranker and the
semantic ranker.

    .venv/bin/python benchmarks/rank_quality.py [--judgments PATH] [--no-semantic]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sample_papers import load_sample_papers
from digest.ranking import MemoryEmbeddings, build_ranker, semantic_available
from digest.ranking.semantic import Encoder, MiniLMEncoder, paper_text
from digest.ranking.text import tokens
from papercore.config import RankingSettings
from papercore.papers import Paper, paper_id_for, title_key
from subscribers.model import Interest

HERE = Path(__file__).resolve().parent
K = 10

Rank = Callable[[Sequence[str]], list[str]]


def ndcg_at_k(ranked: Sequence[str], grades: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** grades.get(p, 0) - 1) / math.log2(i + 2) for i, p in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def precision_at_k(ranked: Sequence[str], grades: dict[str, int], k: int = K) -> float:
    return sum(grades.get(p, 0) > 0 for p in ranked[:k]) / k


def plain_bm25(papers: Sequence[Paper]) -> Rank:
    """The baseline: bm25s over title + abstract, the topics joined into one query."""
    index = bm25s.BM25()
    index.index(tokens([f"{p.title} {p.abstract}" for p in papers]), show_progress=False)

    def rank(topics: Sequence[str]) -> list[str]:
        query = tokens([" ".join(topics)])[0]
        scores = index.get_scores(query) if query else np.zeros(len(papers))
        return [papers[i].id for i in np.argsort(-scores, kind="stable")]

    return rank


def minilm_rank(papers: Sequence[Paper], encoder: Encoder) -> tuple[Rank, Rank]:
    """The two reference systems of the issue: all-MiniLM-L6-v2 alone (cosine of the joined
    topics with title + abstract), and a simple fusion of it with plain BM25 (the mean of the two
    scores, each min-max normalised over the papers)."""
    vectors = encoder.encode([paper_text(p) for p in papers])
    index = bm25s.BM25()
    index.index(tokens([f"{p.title} {p.abstract}" for p in papers]), show_progress=False)

    def cosine(topics: Sequence[str]) -> np.ndarray:
        return np.asarray(vectors @ encoder.encode([" ".join(topics)])[0], dtype=np.float64)

    def alone(topics: Sequence[str]) -> list[str]:
        return [papers[i].id for i in np.argsort(-cosine(topics), kind="stable")]

    def fused(topics: Sequence[str]) -> list[str]:
        query = tokens([" ".join(topics)])[0]
        lexical = index.get_scores(query) if query else np.zeros(len(papers))
        score = _minmax(np.asarray(lexical, dtype=np.float64)) + _minmax(cosine(topics))
        return [papers[i].id for i in np.argsort(-score, kind="stable")]

    return alone, fused


def _minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def ranker_rank(papers: Sequence[Paper], semantic: bool) -> Rank:
    settings = RankingSettings(semantic="on" if semantic else "off")
    ranker = build_ranker(
        papers,
        settings,
        embeddings_cache=MemoryEmbeddings(),
        **({} if semantic else {"encoder": None}),
    )
    now = max((p.posted_at for p in papers if p.posted_at), default=datetime.now(UTC))

    def rank(topics: Sequence[str]) -> list[str]:
        interests = [Interest("topic", t) for t in topics]
        return [pick.paper.id for pick in ranker.rank(interests, limit=K, now=now)]

    return rank


def resolve(profile: dict[str, Any], ids_by_title: dict[str, str]) -> dict[str, int]:
    grades: dict[str, int] = {}
    for entry in profile["grades"]:
        paper_id = entry.get("id") or ids_by_title[title_key(entry["title"])]
        grades[ids_by_title.get(title_key(entry.get("title", "")), paper_id)] = int(entry["grade"])
    return grades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=Path, default=HERE / "judgments.json")
    parser.add_argument("--no-semantic", action="store_true")
    args = parser.parse_args()
    papers = load_sample_papers()
    ids_by_title = {title_key(p.title): p.id for p in papers}
    assert all(p.id == paper_id_for(p.title, None) for p in papers)
    profiles = json.loads(args.judgments.read_text(encoding="utf-8"))["profiles"]
    systems: dict[str, Rank] = {"bm25": plain_bm25(papers), "default": ranker_rank(papers, False)}
    if not args.no_semantic and semantic_available():
        systems["minilm"], systems["fusion"] = minilm_rank(papers, MiniLMEncoder())
        systems["semantic"] = ranker_rank(papers, True)
    names = list(systems)
    print(f"{len(papers)} papers, {len(profiles)} judged profiles; nDCG@{K} / P@{K}")
    print(
        "splits: tune = tuned on, heldout (*) = kept aside, test (+) = judged blind, never tuned,"
        " blind (#), blind2 (%), blind3 (^), blind4 (~), blind5 (=) = judged blind,"
        " each scored once with the rankers frozen"
    )
    print(f"{'profile':<18}" + "".join(f"{n:>18}" for n in names))
    by_split: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for profile in profiles:
        grades = resolve(profile, ids_by_title)
        split = split_of(profile)
        row = f"{profile['name'] + MARKS.get(split, ''):<18}"
        for name in names:
            ranked = systems[name](profile["topics"])
            scores = ndcg_at_k(ranked, grades), precision_at_k(ranked, grades)
            by_split.setdefault(split, {n: [] for n in names})[name].append(scores)
            row += f"{scores[0]:>12.3f} {scores[1]:>5.2f}"
        print(row)
    every = {n: [s for split in by_split.values() for s in split[n]] for n in names}
    for label, results in [
        *((f"{s} ({len(r[names[0]])})", r) for s, r in by_split.items()),
        (f"all ({len(profiles)})", every),
    ]:
        line = f"{label:<18}"
        for name in names:
            ndcg = float(np.mean([t[0] for t in results[name]]))
            precision = float(np.mean([t[1] for t in results[name]]))
            line += f"{ndcg:>12.3f} {precision:>5.2f}"
        print(line)


MARKS = {
    "heldout": "*",
    "test": "+",
    "blind": "#",
    "blind2": "%",
    "blind3": "^",
    "blind4": "~",
    "blind5": "=",
}


def split_of(profile: dict[str, Any]) -> str:
    """tune, heldout or test (older files only mark heldout)."""
    return str(profile.get("split") or ("heldout" if profile.get("heldout") else "tune"))


if __name__ == "__main__":
    main()
