"""Rules of the layout that import-linter cannot see: who may change an issue's status."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("papercore", "subscribers", "digest", "benchmarks")


def _callers(name: str) -> set[str]:
    found: set[str] = set()
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    if isinstance(func, ast.Attribute):
                        called = func.attr
                    else:
                        called = getattr(func, "id", "")
                    if called == name:
                        found.add(path.relative_to(ROOT).as_posix())
    return found


def test_only_the_lifecycle_changes_an_issues_status() -> None:
    assert _callers("set_status") == {"digest/sending/lifecycle.py"}


def test_only_the_lifecycle_opens_issues() -> None:
    assert _callers("open_issue") == {"digest/sending/lifecycle.py"}


def test_one_personal_digest_builder_ranks_for_subscribers() -> None:
    # Whatever a subscriber previews, receives, views or inspects is ranked in one place.
    ranked_by_interests = {
        path
        for path in _callers("rank")
        if not path.startswith(("digest/ranking/", "benchmarks/"))
    }
    # `digest rank --topic` explores every stored paper for typed topics: not anyone's digest.
    assert ranked_by_interests == {"digest/personal/builder.py", "digest/cli/rank.py"}
