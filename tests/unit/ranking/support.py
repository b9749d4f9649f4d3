"""Small helpers for the ranking tests: papers made to order and the sample papers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.ranking import Ranker, build_ranker
from digest.sources import parse
from digest.sources.fetch import read
from papercore.config import RankingSettings
from papercore.papers import Paper, merge, paper_id_for

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def paper(title: str, abstract: str = "", **fields: object) -> Paper:
    defaults: dict[str, object] = {"posted_at": NOW - timedelta(hours=6)}
    return Paper(
        id=paper_id_for(title, None), title=title, abstract=abstract, **(defaults | fields)
    )  # type: ignore[arg-type]


def lexical(papers: list[Paper], **settings: object) -> Ranker:
    return build_ranker(papers, RankingSettings(semantic="off", **settings), encoder=None)  # type: ignore[arg-type]


def sample_papers() -> list[Paper]:
    by_key: dict[str, Paper] = {}
    for page in sorted(FIXTURES.glob("0*.txt")):
        for found in parse(
            read(str(page), max_bytes=50_000_000, timeout=5, retries=0), "page", NOW
        ):
            by_key[found.key] = merge(by_key[found.key], found) if found.key in by_key else found
    return list(by_key.values())


BACKGROUND = [
    paper(
        "Graph Neural Networks for Molecules",
        "We train graph neural networks with message passing on molecular graphs.",
    ),
    paper(
        "Scaling Graph Neural Network Training",
        "Distributed training of graph neural networks on billion-edge graphs with sampling.",
    ),
    paper(
        "Diffusion Models for Image Synthesis",
        "Denoising diffusion models generate high fidelity images from noise.",
    ),
    paper(
        "Power Allocation in Wireless Networks",
        "Resource allocation for base stations and users in cellular wireless networks.",
    ),
    paper(
        "Pruning Convolutional Networks",
        "Structured pruning removes channels of deep convolutional neural networks.",
    ),
    paper(
        "A Survey of Reinforcement Learning",
        "Policies, value functions and exploration in reinforcement learning agents.",
    ),
]
