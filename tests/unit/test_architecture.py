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


# A subscriber's own moments, against which a paper's first sighting would decide "new to them".
SUBSCRIBER_TIMES = {"last_digest_at", "confirmed_at", "created_at", "reference_time"}


def _identifiers(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.add(node.name)
            found.update(a.arg for a in node.args.args + node.args.kwonlyargs)
    return found


def test_only_new_papers_decides_which_papers_are_new_to_a_subscriber() -> None:
    # Issue 23: the scheduler compared the newest first_seen with the join time while the
    # builder gave a first digest the lookback; two rules, and a first digest that never came.
    # Now a module that weighs papers' first sightings against a subscriber's own time is the
    # owner, ``digest.personal.pool.NewPapers``, and everyone else asks it.
    deciding: set[str] = set()
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            names = _identifiers(ast.parse(path.read_text(encoding="utf-8"), str(path)))
            if any("first_seen" in n for n in names) and names & SUBSCRIBER_TIMES:
                deciding.add(path.relative_to(ROOT).as_posix())
    assert deciding == {"digest/personal/pool.py"}


def test_the_scheduler_preview_status_and_sends_ask_the_one_owner() -> None:
    asking = _callers("old_to") | _callers("count_new_to") | _callers("why_nothing_new")
    # the builder (picks, sends, previews, the web view, status) and the scheduler's skip
    assert asking == {
        "digest/personal/builder.py",
        "digest/personal/pool.py",
        "digest/schedule/deliver.py",
    }
    assert not _callers("newest_first_seen")  # "anything new at all" decides nothing for anyone
