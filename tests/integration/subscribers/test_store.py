from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from papercore.errors import InputError, ParseError
from subscribers import store
from subscribers.csv_import import import_rows, parse_csv
from subscribers.model import clean_phrase, normalise_email
from tests.conftest import NOW


def test_add_find_and_page_through_subscribers(engine: Engine) -> None:
    with engine.begin() as connection:
        assert store.max_subscriber_id(connection) == 0
        for n in range(25):
            store.add(connection, f"p{n}@example.org", NOW, topics=[f"topic {n}"], status="active")
        store.add(connection, "waiting@example.org", NOW, status="pending")
    with engine.connect() as connection:
        everyone = list(store.iter_subscribers(connection, batch=7))
        active = list(store.iter_subscribers(connection, ["active"], batch=4))
        ranged = list(store.iter_subscribers(connection, after_id=5, up_to_id=10))
        found = store.find(connection, "P3@Example.org")
        assert store.count_by_status(connection) == {"active": 25, "pending": 1}
        assert store.max_subscriber_id(connection) == 26
    assert len(everyone) == 26 and len(active) == 25
    assert [s.id for s in ranged] == [6, 7, 8, 9, 10]
    assert found is not None and found.topics == ("topic 3",)


def test_duplicates_and_suppressed_addresses_are_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        store.add(connection, "a@example.org", NOW)
        with pytest.raises(InputError, match="already subscribed"):
            store.add(connection, "a@example.org", NOW)
        store.suppress(connection, "gone@example.org", "bounce", NOW)
        store.suppress(connection, "gone@example.org", "bounce", NOW)  # idempotent
        with pytest.raises(InputError, match="suppression list"):
            store.add(connection, "gone@example.org", NOW)
        assert store.suppression_count(connection) == 1


def test_address_validation_and_normalisation() -> None:
    assert normalise_email("  Ada@Example.ORG ") == "ada@example.org"
    for bad in ("not-an-address", "a@b", "x@example.org\r\nBcc: victim@example.org", ""):
        with pytest.raises(InputError):
            normalise_email(bad)


def test_phrases_are_cleaned_and_capped() -> None:
    assert clean_phrase("  graph   neural\tnetworks ") == "graph neural networks"
    with pytest.raises(InputError, match="limit is 200"):
        clean_phrase("x" * 10_000)
    with pytest.raises(InputError, match="control characters"):
        clean_phrase("a\x07b")


def test_csv_import_records_consent_and_skips_suppressed(engine: Engine, tmp_path: Path) -> None:
    text = (
        "email,topics,name,frequency,timezone,hour\n"
        "ada@example.org,graph neural networks;wireless networks,Ada,daily,Europe/London,7\n"
        "bounced@example.org,vision,,weekly,,\n"
        "ADA@example.org,duplicate,,,,\n"
        "grace@example.org,compilers,Grace,weekly,America/New_York,9\n"
    )
    rows = parse_csv("people.csv", text, 8, "UTC")
    with engine.begin() as connection:
        store.suppress(connection, "bounced@example.org", "bounce", NOW)
        counts = import_rows(connection, rows, "Signed up at the booth", "people.csv", NOW)
    assert (counts.read, counts.imported, counts.existing, counts.suppressed) == (4, 2, 1, 1)
    with engine.connect() as connection:
        ada = store.get_by_email(connection, "ada@example.org")
        events = store.events(connection, ada.id)
        assert store.find(connection, "bounced@example.org") is None
    assert ada.status == "active" and ada.hour == 7 and ada.timezone == "Europe/London"
    assert ada.topics == ("graph neural networks", "wireless networks")
    assert events[0]["kind"] == "import" and events[0]["consent_text"] == "Signed up at the booth"


@pytest.mark.parametrize(
    "text, where",
    [
        ("mail,topics\n", "people.csv:1: header row lacks column(s) email"),
        ("email,topics,colour\n", "people.csv:1: unknown column(s) colour"),
        ("email,topics\nok@example.org,a\nbroken,b\n", "people.csv:3: invalid email address"),
        ("email,topics,hour\nok@example.org,a,25\n", "people.csv:2: delivery hour 25"),
        (
            "email,topics,timezone\nok@example.org,a,Mars/Olympus\n",
            "people.csv:2: unknown time zone",
        ),
        ("email,topics\nok@example.org,a,extra\n", "people.csv:2: more fields than the header"),
    ],
)
def test_csv_errors_name_file_and_line(text: str, where: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_csv("people.csv", text, 8, "UTC")
    assert str(caught.value).startswith(where)
