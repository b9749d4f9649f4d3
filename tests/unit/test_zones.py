"""subscribers.zones: what a person types as a time zone, read as an IANA zone."""

from __future__ import annotations

import pytest

from papercore.errors import InputError
from subscribers.zones import AmbiguousZone, resolve_zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("  berlin ", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("europe/paris", "Europe/Paris"),
        ("UTC", "UTC"),
        ("Indianapolis", "America/Indiana/Indianapolis"),  # the modern name over "US/..."
    ],
)
def test_a_zone_or_a_city_is_read_as_its_zone(typed: str, zone: str) -> None:
    assert resolve_zone(typed) == zone


def test_a_name_several_zones_share_offers_them_all() -> None:
    with pytest.raises(AmbiguousZone) as raised:
        resolve_zone("Eastern")
    assert raised.value.choices == ("Canada/Eastern", "US/Eastern")
    assert "Pick one" in raised.value.one_line()


@pytest.mark.parametrize("typed", ["Mars", "Olympus Mons", "../etc/passwd", "Berlin\x00", "x" * 99])
def test_no_zone_is_an_input_error(typed: str) -> None:
    with pytest.raises(InputError) as raised:
        resolve_zone(typed)
    assert not isinstance(raised.value, AmbiguousZone)
