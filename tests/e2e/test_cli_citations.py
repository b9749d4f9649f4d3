"""`digest papers export --format bibtex|ris|csl-json [--liked-by EMAIL] [--output FILE]`
through the real console script: what it writes parses back, hostile text included, and a bad
format or an unknown subscriber is one clear line with nothing written."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import bibtexparser
from sqlalchemy import Engine

from digest.paper_store import ingest
from papercore.papers import Paper
from tests.conftest import Cli

HOSTILE = Paper(
    "2411.00555",
    'Hostile {title \\ "q" <script>alert(1)</script>\nsecond line',
    "Abstract with } and\nnewline.",
    authors=("Ada {Love}lace", 'Eve "x" \\y'),
    published=date(2024, 11, 5),
)
PLAIN = [Paper(f"2411.0060{i}", f"Plain paper {i}", "Text.", authors=("A B",)) for i in range(3)]


def test_export_writes_each_format_and_it_parses_back(
    cli: Cli, engine: Engine, now: datetime, tmp_path: Path
) -> None:
    ingest(engine, [HOSTILE, *PLAIN], now)
    library = bibtexparser.parse_string(cli("papers", "export", "--format", "bibtex").stdout)
    assert not library.failed_blocks
    entries = {e.key: e for e in library.entries}
    assert set(entries) == {p.id for p in [HOSTILE, *PLAIN]}
    hostile = entries[HOSTILE.id].fields_dict
    assert hostile["eprint"].value == HOSTILE.id and hostile["archivePrefix"].value == "arXiv"
    assert "<script>" in hostile["title"].value and "\n" not in hostile["title"].value

    ris = cli("papers", "export", "--format", "ris").stdout
    lines = [line for line in ris.splitlines() if line]
    assert all(line[2:6] == "  - " for line in lines)
    assert lines.count("ER  - ") == 4
    assert 'TI  - Hostile title "q" <script>alert(1)</script> second line' in lines  # as shown
    assert "AB  - Abstract with } and newline." in lines

    items = json.loads(cli("papers", "export", "--format", "csl-json").stdout)
    by_id = {item["id"]: item for item in items}
    assert by_id[HOSTILE.id]["author"] == [
        {"family": "{Love}lace", "given": "Ada"},
        {"family": "y", "given": 'Eve "x"'},
    ]
    assert by_id[HOSTILE.id]["issued"] == {"date-parts": [[2024, 11, 5]]}

    target = tmp_path / "all.bib"
    done = cli("papers", "export", "-f", "bibtex", "--output", str(target))
    assert "wrote 4 papers as bibtex" in done.stdout
    assert len(bibtexparser.parse_file(str(target)).entries) == 4


def test_export_of_one_subscribers_liked_papers(cli: Cli, engine: Engine, now: datetime) -> None:
    ingest(engine, [HOSTILE, *PLAIN], now)
    cli("subscribe", "ada@example.org", "--topic", "graph neural networks", "--confirmed")
    cli("feedback", "ada@example.org", "--more", HOSTILE.id, "--more", PLAIN[0].id)
    cli("feedback", "ada@example.org", "--less", PLAIN[1].id)
    out = cli("papers", "export", "--format", "csl-json", "--liked-by", "ada@example.org")
    assert sorted(item["id"] for item in json.loads(out.stdout)) == sorted(
        [HOSTILE.id, PLAIN[0].id]
    )


def test_bad_input_is_one_line_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out.bib"
    wrong = cli("papers", "export", "--format", "endnote", "-o", str(target), check=False)
    assert wrong.returncode != 0 and "endnote" in wrong.stderr and not target.exists()
    nobody = cli(
        "papers", "export", "--liked-by", "nobody@example.org", "-o", str(target), check=False
    )
    assert nobody.returncode != 0 and not target.exists()
    assert nobody.stderr.strip().splitlines() == ["error: no subscriber 'nobody@example.org'"]
