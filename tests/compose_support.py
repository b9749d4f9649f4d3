"""Shared builders for the rendering tests: papers, picks, subscribers, links, MJML validation."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest.compose import Composer, IssueInfo
from digest.ranking import Pick
from papercore.config import Settings, load_settings
from papercore.papers import Paper
from subscribers.links import SubscriberLinks
from subscribers.model import Interest, Subscriber
from subscribers.tokens import Signer

ROOT = Path(__file__).resolve().parent.parent
MJML_BIN = ROOT / "node_modules" / ".bin" / "mjml"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
SECRET = "test-secret-key-0123456789abcdef0123456789"
HOSTILE_TITLE = "Attack <script>alert(\"x\")</script> & 'quotes' \u202eevil\u202c 🧪 " + "x" * 2000


def compose_settings(**overrides: object) -> Settings:
    return load_settings(
        None,
        app={"base_url": "https://digest.example.org", "name": "Paper Digest"},
        web={"secret_key": SECRET},
        **overrides,
    )


def paper(i: int, *, long: bool = False, **fields: object) -> Paper:
    words = "graph neural networks scale message passing to deep architectures " * (
        40 if long else 4
    )
    values: dict[str, object] = {
        "id": f"2611.{i:05d}",
        "title": f"Deep graph networks, part {i}"
        + (" with a very long title" * 12 if long else ""),
        "abstract": words.strip(),
        "authors": ("Alice Smith", "Bob Jones", "Carol King", "Dan Brown", "Eve Stone"),
        "published": date(2026, 11, 20),
        "upvotes": 10 + i,
        "comments": i % 4,
        "code_url": f"http://github.com/lab/p{i}" if i % 2 == 0 else None,
    }
    values.update(fields)
    return Paper(**values)  # type: ignore[arg-type]


def pick(p: Paper, why: tuple[str, ...] = ("matches: graph neural networks",)) -> Pick:
    return Pick(paper=p, score=1.0, relevance=0.5, why=why)


def subscriber(
    i: int = 7, frequency: str = "daily", topics: tuple[str, ...] = ("graph neural networks",)
) -> Subscriber:
    """A reader with ``topics`` (none: the trending digest)."""
    interests = tuple(Interest("topic", t) for t in topics)
    return Subscriber(
        id=i,
        email=f"reader{i}@example.com",
        frequency=frequency,  # type: ignore[arg-type]
        interests=interests,
    )


def links(sub: Subscriber, issue_id: int = 12) -> SubscriberLinks:
    return SubscriberLinks(
        "https://digest.example.org", Signer(SECRET), sub.id, sub.token_version, issue_id, NOW
    )


def issue(frequency: str = "daily") -> IssueInfo:
    return IssueInfo(12, date(2026, 11, 21), frequency)


def prepared(papers: list[Paper], settings: Settings | None = None, frequency: str = "daily"):  # type: ignore[no-untyped-def]
    return Composer(settings or compose_settings()).prepare(issue(frequency), papers)


def validate_mjml(documents: dict[str, str]) -> dict[str, list[str]]:
    """Run the official MJML validator (npm mjml, strict) over each document; name -> errors."""
    if not MJML_BIN.exists() or shutil.which("node") is None:
        pytest.skip("npm mjml not installed: run `npm ci` at the repository root")
    script = (
        "const mjml = require(process.argv[1]);"
        "const docs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const out = {};"
        "for (const [name, src] of Object.entries(docs)) {"
        "  try { mjml(src, {validationLevel: 'strict'}); out[name] = []; }"
        "  catch (e) { out[name] = (e.details || [{formattedMessage: String(e)}])"
        "    .map(d => d.formattedMessage); } }"
        "process.stdout.write(JSON.stringify(out));"
    )
    result = subprocess.run(
        ["node", "-e", script, str(ROOT / "node_modules" / "mjml")],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]
