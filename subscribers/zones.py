"""What a person types as a time zone, read as an IANA zone: "Europe/Berlin" as it is, and a
city ("Berlin", "new york", "são paulo" typed as "Sao Paulo") as the zone named after it. A
name that several zones share is not guessed: the error lists them to choose from."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, available_timezones

from papercore.errors import InputError
from subscribers.model import check_timezone

MAX_CHOICES = 8
REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


class AmbiguousZone(InputError):
    """Several zones answer to what was typed; ``choices`` names them."""

    def __init__(self, typed: str, choices: tuple[str, ...]) -> None:
        self.choices = choices
        shown = ", ".join(choices[:MAX_CHOICES])
        super().__init__(f"Several time zones are called {typed[:64]!r}: {shown}. Pick one.")


@lru_cache(maxsize=1)
def _by_place() -> dict[str, tuple[str, ...]]:
    """Each zone's last path component (lower case) and every full name (lower case), with
    the zones it names: "berlin" -> ("Europe/Berlin",)."""
    found: dict[str, set[str]] = {}
    for zone in available_timezones():
        if zone.startswith(("Etc/", "SystemV/")) or zone in ("localtime", "Factory"):
            continue
        found.setdefault(zone.lower(), set()).add(zone)
        if "/" in zone:
            found.setdefault(zone.rsplit("/", 1)[-1].lower(), set()).add(zone)
    return {key: tuple(sorted(zones)) for key, zones in found.items()}


def resolve_zone(typed: str) -> str:
    """The IANA zone ``typed`` names: itself when it is one, else the one zone whose name (or
    last part, spaces read as underscores, any case) it is. AmbiguousZone when several zones
    share it; InputError (check_timezone's) when none does."""
    name = typed.strip()
    try:
        return check_timezone(name)
    except InputError:
        key = "_".join(name.split()).lower()
        zones = _by_place().get(key, ())
        if len(zones) > 1:
            zones = _one_per_zone(_preferred(zones))
        if len(zones) == 1:
            return zones[0]
        if zones:
            raise AmbiguousZone(name, zones) from None
        raise


def _preferred(zones: tuple[str, ...]) -> tuple[str, ...]:
    """Among zones answering to one name, the region/city ones over legacy aliases such as
    "US/Pacific" when both are present (``America/Los_Angeles`` is what the list offers)."""
    modern = tuple(z for z in zones if z.startswith(REGIONS))
    return modern or zones


def _one_per_zone(zones: tuple[str, ...]) -> tuple[str, ...]:
    """Names that are links to one zone (America/Indianapolis, America/Indiana/Indianapolis)
    count once, under the longest name; unreadable data keeps every name."""
    seen: dict[bytes, str] = {}
    for zone in sorted(zones, key=lambda z: (-z.count("/"), z)):
        data = _zone_data(zone)
        if data is None:
            return zones
        seen.setdefault(data, zone)
    return tuple(sorted(seen.values()))


def _zone_data(zone: str) -> bytes | None:
    """The compiled tz data of ``zone`` where zoneinfo reads it (TZPATH, then tzdata)."""
    for root in TZPATH:
        path = Path(root, zone)
        if path.is_file():
            return path.read_bytes()
    try:
        found = resources.files("tzdata.zoneinfo").joinpath(*zone.split("/"))
        return found.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
