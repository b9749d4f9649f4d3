"""Issue 23, item 6, as a class: a city typed as a time zone is read as its zone on every path
in, the CLI's `subscribe` and `subscribers import` as well as the web forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow


def test_subscribe_and_import_read_a_city_as_its_time_zone(cli: Cli, tmp_path: Path) -> None:
    cli("subscribe", "ada@example.org", "--topic", "graphs", "--timezone", "Berlin", "--confirmed")
    people = tmp_path / "people.csv"
    people.write_text(
        "email,topics,name,frequency,timezone\nbob@example.org,graphs,,daily,new york\n"
    )
    cli("subscribers", "import", str(people), "--consent", "asked at the lab meeting")
    zones = {
        address: _timezone_of(json.loads(cli("subscribers", "export", address).stdout))
        for address in ("ada@example.org", "bob@example.org")
    }
    assert zones == {"ada@example.org": "Europe/Berlin", "bob@example.org": "America/New_York"}

    ambiguous = cli(
        "subscribe", "cy@example.org", "--topic", "x", "--timezone", "Eastern", check=False
    )
    assert ambiguous.returncode != 0
    assert "Several time zones are called 'Eastern'" in ambiguous.stderr + ambiguous.stdout


def _timezone_of(exported: dict[str, object]) -> object:
    """The time zone in `digest subscribers export EMAIL`'s JSON, wherever it sits."""
    if "timezone" in exported:
        return exported["timezone"]
    for value in exported.values():
        if isinstance(value, dict) and "timezone" in value:
            return value["timezone"]
    raise AssertionError(f"no timezone in {sorted(exported)}")
