"""Writes digest/ranking/reference_mean.npy: the mean lead and full-text all-MiniLM-L6-v2
vectors of the 288 sample papers, which the semantic ranker centres on (blended with the mean of
the papers it ranks).

    .venv/bin/python benchmarks/reference_mean.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sample_papers import load_sample_papers
from digest.ranking.semantic import (
    DIMENSIONS,
    PARTS,
    REFERENCE_MEAN,
    MemoryEmbeddings,
    MiniLMEncoder,
    embed_missing,
)


def main() -> None:
    papers = load_sample_papers()
    vectors = embed_missing(papers, MiniLMEncoder(), MemoryEmbeddings())
    stacked = np.vstack([vectors[p.id] for p in papers]).reshape(len(papers), PARTS, DIMENSIONS)
    mean = stacked.mean(axis=0).astype(np.float32)
    np.save(REFERENCE_MEAN, mean)
    print(f"wrote {REFERENCE_MEAN} from {len(papers)} papers: shape {mean.shape}")


if __name__ == "__main__":
    main()
