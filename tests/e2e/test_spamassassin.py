"""SpamAssassin with its local rules (no network tests) scores our mail 0: no rule with a
positive score fires on a digest, the trending digest or a notice."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from digest.compose.notices import notice
from tests.compose_support import compose_settings, links, paper, pick, prepared, subscriber

SPAMASSASSIN = shutil.which("spamassassin")
ABSTRACT = (
    "Graph neural networks are hard to scale. We propose GraphScale, a message passing scheme "
    "that trains deep graph networks on billion-edge graphs with constant memory. Experiments "
    "on five benchmarks show that GraphScale outperforms prior methods by 4.1 points."
)
# What a real operator configures (example domains are refused outside --dev).
SENDER = {
    "from_address": "digest@paperlab.net",
    "unsubscribe_mailto": "",
    "list_id": "digest.paperlab.net",
    "postal_address": "12 Rue des Écoles, 75005 Paris",
}
RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s", re.MULTILINE)

pytestmark = pytest.mark.skipif(
    SPAMASSASSIN is None, reason="needs Debian's spamassassin (scripts/test installs it)"
)


def fired(message: bytes) -> dict[str, float]:
    """The rules that fire, with their scores, from `spamassassin -L -t` (local tests only)."""
    assert SPAMASSASSIN is not None
    result = subprocess.run(
        [SPAMASSASSIN, "-L", "-t"], input=message, capture_output=True, timeout=120, check=True
    )
    report = result.stdout.decode("utf-8", "replace").split("Content analysis details:", 1)[1]
    return {name: float(points) for points, name in RULE.findall(report)}


def _messages() -> dict[str, bytes]:
    settings = compose_settings(sender=SENDER)
    papers = [paper(i, abstract=ABSTRACT) for i in range(10)]
    reader, trending = subscriber(topics=("graph neural networks",)), subscriber(8, topics=())
    issue = prepared(papers, settings)
    welcome = notice(
        "welcome",
        settings,
        to="reader@example.com",
        action_url="https://digest.example.org/preferences/tok",
        unsubscribe_url="https://digest.example.org/unsubscribe/tok",
        now=datetime(2026, 11, 21, 8, tzinfo=UTC),
    )
    return {
        "digest": issue.message(reader, [pick(p) for p in papers], links(reader)).data,
        "trending": issue.message(trending, [pick(p) for p in papers], links(trending)).data,
        "welcome": welcome.data,
    }


def test_no_positive_rule_fires_on_what_we_send() -> None:
    for name, data in _messages().items():
        rules = fired(data)
        assert "HTML_MESSAGE" in rules, rules  # the report was read
        positive = {rule: score for rule, score in rules.items() if score > 0}
        assert positive == {}, (name, positive)
