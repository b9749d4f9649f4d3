"""``digest feedback`` and ``digest subscribers seed`` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SAMPLE_PAGES, Cli


def stored_papers(cli: Cli) -> list[dict[str, str]]:
    cli("ingest", *map(str, SAMPLE_PAGES))
    papers: list[dict[str, str]] = json.loads(cli("papers", "list", "--json").stdout)
    return papers


def stored_ids(cli: Cli) -> list[str]:
    return [p["id"] for p in stored_papers(cli)]


def examples(cli: Cli, email: str) -> list[tuple[str, int]]:
    events = json.loads(cli("subscribers", "export", email).stdout)["events"]
    votes: dict[str, int] = {}
    for event in events:
        if event["kind"] == "feedback":
            votes[event["detail"]["paper"]] = event["detail"]["d"]
    return sorted(votes.items())


def test_feedback_marks_several_papers_at_once_all_or_nothing(cli: Cli) -> None:
    first, second, third = stored_ids(cli)[:3]
    cli("subscribe", "ada@example.org", "--topic", "graph neural networks", "--confirmed")
    result = cli("feedback", "ada@example.org", "--more", first, "--more", second, "--less", third)
    assert result.stdout.count("recorded") == 3 and "less" in result.stdout
    assert examples(cli, "ada@example.org") == sorted([(first, 1), (second, 1), (third, -1)])
    held = json.loads(cli("subscribers", "export", "ada@example.org").stdout)["examples"]
    assert sorted((e["paper"], e["vote"]) for e in held) == examples(cli, "ada@example.org")

    again = cli("feedback", "ada@example.org", "--less", first)  # replaces the earlier vote
    assert "recorded" in again.stdout
    assert dict(examples(cli, "ada@example.org"))[first] == -1

    unknown = cli(
        "feedback", "ada@example.org", "--more", second, "--more", "9999.99999", check=False
    )
    assert unknown.returncode == 6
    assert unknown.stderr.strip().splitlines() == [
        "error: no paper '9999.99999' in the store (digest papers list shows the ids)"
    ]
    nobody = cli("feedback", "bob@example.org", "--more", first, check=False)
    assert nobody.returncode == 6 and "no subscriber 'bob@example.org'" in nobody.stderr
    both = cli("feedback", "ada@example.org", "--more", first, "--less", first, check=False)
    assert both.returncode == 3 and "marked both --more and --less" in both.stderr
    none = cli("feedback", "ada@example.org", check=False)
    assert none.returncode == 3 and "--more PAPER_ID" in none.stderr


def test_seed_from_a_bibtex_file_lists_what_was_not_found(cli: Cli, tmp_path: Path) -> None:
    title = next(p["title"] for p in stored_papers(cli) if p["title"].isascii())
    cli("subscribe", "ada@example.org", "--confirmed")
    library = tmp_path / "library.bib"
    library.write_text(
        f"@misc{{a, title={{{title.upper()}}}}}\n"  # matched by its normalised title
        "@article{b, title={A brand new method}, abstract={It is new.}, eprint={2501.00042}}\n"
        "@article{c, title={A paper that is nowhere}}\n",
        encoding="utf-8",
    )
    result = cli("subscribers", "seed", "ada@example.org", str(library))
    said = " ".join(result.stdout.split())
    assert f"Liked 2 papers: “{title[:40]}" in said  # titles are shortened to 80 characters
    assert "” and “A brand new method” (1 from your list," in said
    assert "kept for you only). Not found (1)" in said
    assert "kept privately" in result.stdout
    assert "not found" in result.stdout and "A paper that is nowhere" in result.stdout
    seeds = [
        e["detail"]
        for e in json.loads(cli("subscribers", "export", "ada@example.org").stdout)["events"]
        if e["kind"] == "seed"
    ]
    assert seeds == [
        {"via": "cli", "liked": 1, "private": 1, "missing": 1, "cut": 0, "pruned": 0}
    ]
    papers = {p["id"] for p in stored_papers(cli)}
    assert "2501.00042" not in papers  # a person's list never writes the paper store

    long = tmp_path / "long.bib"
    long.write_text(
        "\n".join(f"@misc{{k{n}, title={{Made-up {n}}}, abstract={{Text.}}}}" for n in range(55)),
        encoding="utf-8",
    )
    cut = cli("subscribers", "seed", "ada@example.org", str(long))
    assert "Only the first 50 papers of a list are read: 5 more were left out." in cut.stdout

    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n", encoding="utf-8")
    refused = cli("subscribers", "seed", "ada@example.org", str(empty), check=False)
    assert refused.returncode == 3 and "no papers in it" in refused.stderr
