"""Does feedback make the next digest better? nDCG@10 on the judged profiles, before and after.

For each judged profile (benchmarks/judgments.json) and each ranker (lexical, semantic):

- K = 1, 3, 5 likes: the subscriber clicks "more like this" on K papers they grade 2 (drawn at
  random, SEEDS draws per profile, profiles with no more than K grade-2 papers skipped); nDCG@10
  of their topics alone and of topics + the likes, both over the judged papers that are left
  (the liked ones are delivered: excluded and ungraded).
- A realistic week: digest 1 is the ranker's top ten for the topics; "more" on each paper of it
  graded 2, "less" on each graded 0 (graded 1: no click); digest 2 excludes digest 1, with and
  without those clicks, scored over what is left.

Clicks are ``subscribers.model.Example`` objects (what the store keeps), turned into the
ranker's examples by ``digest.ranking.examples.ranked_examples`` as the builder does.

Reference systems, scored on the same draws in the same run (``benchmarks/reference_rankers.py``;
their "topics only" is their own ranking without feedback):

- bm25: plain BM25 of the joined topics (bm25s), which ignores feedback;
- svm+bm25: arxiv-sanity-lite's per-user linear SVM (liked papers positive, every other paper
  negative, on its tf-idf vectors) fused with that BM25 by reciprocal-rank fusion;
- rocchio+bm25 (with ``[semantic]``): all-MiniLM-L6-v2 cosine of the joined topics' embedding
  plus the mean liked embedding (Rocchio), fused with that BM25 by reciprocal-rank fusion.

    .venv/bin/python benchmarks/feedback_quality.py [--judgments PATH] [--no-semantic]
        [--no-references]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.rank_quality import MARKS, K, ndcg_at_k, resolve, split_of
from benchmarks.reference_rankers import Reference, references
from benchmarks.sample_papers import NOW, load_sample_papers
from digest.ranking import MemoryEmbeddings, Ranker, build_ranker, semantic_available
from digest.ranking.examples import ranked_examples
from papercore.config import RankingSettings
from papercore.papers import Paper, title_key
from subscribers.model import Example, Interest

HERE = Path(__file__).resolve().parent
LIKES = (1, 3, 5)
SEEDS = 3
CLICKED = NOW - timedelta(days=1)  # the clicks of last week's digest


def ranker_of(papers: Sequence[Paper], semantic: bool) -> Ranker:
    settings = RankingSettings(semantic="on" if semantic else "off")
    extra: dict[str, Any] = {} if semantic else {"encoder": None}
    return build_ranker(papers, settings, embeddings_cache=MemoryEmbeddings(), **extra)


# (topics, clicks, excluded paper ids) -> the top K paper ids
System = Callable[[Sequence[str], Sequence[Example], Sequence[str]], list[str]]


def ours(ranker: Ranker, papers: dict[str, Paper]) -> System:
    def ranked(
        topics: Sequence[str], clicks: Sequence[Example] = (), exclude: Sequence[str] = ()
    ) -> list[str]:
        interests = [Interest("topic", t) for t in topics]
        examples = ranked_examples(clicks, papers)
        picks = ranker.rank(interests, examples=examples, exclude=exclude, limit=K, now=NOW)
        return [p.paper.id for p in picks]

    return ranked


def reference(system: Reference) -> System:
    def ranked(
        topics: Sequence[str], clicks: Sequence[Example] = (), exclude: Sequence[str] = ()
    ) -> list[str]:
        liked = [c.paper_id for c in clicks if c.vote > 0]
        disliked = [c.paper_id for c in clicks if c.vote < 0]
        return system(topics, liked, disliked, exclude)[:K]

    return ranked


def likes(
    ranked: System, profile: dict[str, Any], grades: dict[str, int]
) -> dict[int, list[tuple[float, float]]]:
    """(topics only, after the likes) per K, one pair per draw."""
    twos = sorted(p for p, g in grades.items() if g == 2)
    found: dict[int, list[tuple[float, float]]] = {}
    for k in LIKES:
        if len(twos) <= k:
            continue
        for seed in range(SEEDS):
            liked = random.Random(f"{profile['name']}:{k}:{seed}").sample(twos, k)
            left = {p: g for p, g in grades.items() if p not in liked}
            clicks = [Example(p, 1, CLICKED) for p in liked]
            before = ranked(profile["topics"], (), liked)
            after = ranked(profile["topics"], clicks, liked)
            found.setdefault(k, []).append((ndcg_at_k(before, left), ndcg_at_k(after, left)))
    return found


def week(
    ranked: System, profile: dict[str, Any], grades: dict[str, int]
) -> tuple[float, float] | None:
    """nDCG of digest 2 without and with the clicks on digest 1."""
    first = ranked(profile["topics"], (), ())
    clicks = [Example(p, 1, CLICKED) for p in first if grades.get(p, 0) == 2]
    clicks += [Example(p, -1, CLICKED) for p in first if grades.get(p, 0) == 0]
    left = {p: g for p, g in grades.items() if p not in first}
    if not any(g > 0 for g in left.values()):
        return None
    before = ranked(profile["topics"], (), first)
    after = ranked(profile["topics"], clicks, first)
    return ndcg_at_k(before, left), ndcg_at_k(after, left)


def mean_pair(pairs: Sequence[tuple[float, float]]) -> str:
    if not pairs:
        return f"{'-':>15}"
    before = float(np.mean([b for b, _ in pairs]))
    after = float(np.mean([a for _, a in pairs]))
    return f"{before:>7.3f}>{after:<7.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=Path, default=HERE / "judgments.json")
    parser.add_argument("--no-semantic", action="store_true")
    parser.add_argument("--no-references", action="store_true")
    parser.add_argument("--per-profile", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated parts of the system names")
    parser.add_argument("--splits", default="", help="comma-separated splits (default: all)")
    args = parser.parse_args()
    sample = load_sample_papers()
    papers = {p.id: p for p in sample}
    ids_by_title = {title_key(p.title): p.id for p in sample}
    profiles = json.loads(args.judgments.read_text(encoding="utf-8"))["profiles"]
    if args.splits:
        profiles = [p for p in profiles if split_of(p) in args.splits.split(",")]
    semantic = not args.no_semantic and semantic_available()
    systems: dict[str, Callable[[], System]] = {
        "lexical ranker": lambda: ours(ranker_of(sample, False), papers)
    }
    if semantic:
        systems["semantic ranker"] = lambda: ours(ranker_of(sample, True), papers)
    if not args.no_references:
        for name, made in references(sample, semantic).items():
            systems[name] = lambda made=made: reference(made())  # type: ignore[misc]
    if args.only:
        wanted = args.only.split(",")
        systems = {n: s for n, s in systems.items() if any(w in n for w in wanted)}
    print(
        f"{len(sample)} papers, {len(profiles)} judged profiles; nDCG@{K} topics only > after "
        f"feedback, on the judged papers left; K likes: mean of {SEEDS} draws of grade-2 papers"
    )
    header = f"{'split':<14}" + "".join(f"{f'K={k} likes':>16}" for k in LIKES)
    header += f"{'week (more/less)':>17}"
    for name, make in systems.items():
        ranked = make()
        print(f"\n{name}")
        print(header)
        by_split: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for profile in profiles:
            grades = resolve(profile, ids_by_title)
            split = split_of(profile)
            rows = by_split.setdefault(split, {})
            found = likes(ranked, profile, grades)
            for k, pairs in found.items():
                rows.setdefault(f"K{k}", []).extend(pairs)
            weekly = week(ranked, profile, grades)
            if weekly is not None:
                rows.setdefault("week", []).append(weekly)
            if args.per_profile:
                line = f"{profile['name'] + MARKS.get(split, ''):<14}"
                line += "".join(mean_pair(found.get(k, [])) + " " for k in LIKES)
                print(line + mean_pair([weekly] if weekly else []))
        every: dict[str, list[tuple[float, float]]] = {}
        for rows in by_split.values():
            for key, pairs in rows.items():
                every.setdefault(key, []).extend(pairs)
        for split, rows in [*by_split.items(), ("all", every)]:
            count = sum(1 for p in profiles if split in ("all", split_of(p)))
            line = f"{f'{split} ({count})':<14}"
            line += "".join(mean_pair(rows.get(f"K{k}", [])) + " " for k in LIKES)
            print(line + mean_pair(rows.get("week", [])))


if __name__ == "__main__":
    main()
