"""Subscribers as CSV (the import format), safe to open in a spreadsheet.

Cells come from strangers (an address such as ``=cmd|'/Ccalc'!a0@example.org``, a topic such as
``=HYPERLINK(...)``). As OWASP recommends for CSV injection, a cell that starts with a character
a spreadsheet reads as a formula (``= + - @``, tab, carriage return, and their full-width forms,
which some spreadsheets honour) is prefixed with a single quote, and so is a cell that starts
with a quote, so that ``unescape_cell`` gives back exactly what was stored. Topics are escaped
one by one too (a spreadsheet's "text to columns" on ';' would make each one a cell). The csv
module quotes any cell with a comma, quote or line break, so none can start another cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from subscribers.model import Subscriber

COLUMNS = ("email", "topics", "name", "frequency", "timezone", "hour", "status")
FORMULA_START = frozenset("=+-@\t\r＝＋－＠")
ESCAPE = "'"
TOPIC_SEPARATOR = ";"


def escape_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it as text: a leading formula character (or quote) is
    preceded by a single quote."""
    if value and (value[0] in FORMULA_START or value[0] == ESCAPE):
        return ESCAPE + value
    return value


def unescape_cell(value: str) -> str:
    """The inverse of ``escape_cell`` (for importing what was exported)."""
    if value.startswith(ESCAPE) and len(value) > 1 and value[1] in FORMULA_START | {ESCAPE}:
        return value[1:]
    return value


def subscribers_csv(people: Iterable[Subscriber]) -> str:
    """A header row and one row per subscriber, every cell escaped (and quoted when needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # quotes a cell with , " or a line break
    writer.writerow(COLUMNS)
    for person in people:
        # each ';'-separated piece escaped (a topic stored before ';' was refused in one may
        # hold several), so no piece of the cell starts with a formula
        topics = TOPIC_SEPARATOR.join(
            escape_cell(piece) for t in person.topics for piece in t.split(TOPIC_SEPARATOR)
        )
        writer.writerow(
            [
                escape_cell(person.email),
                topics,
                *(escape_cell(c) for c in (person.name, person.frequency, person.timezone)),
                person.hour,
                escape_cell(person.status),
            ]
        )
    return buffer.getvalue()
