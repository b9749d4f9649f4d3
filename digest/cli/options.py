"""Option types shared by the commands: one way to read each kind of value."""

from __future__ import annotations

from datetime import date

import typer


def iso_date(text: str | date) -> date:
    """A YYYY-MM-DD option value as a date; anything else is a one-line usage error."""
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def dev_option(
    help: str = "Local testing: allow example and loopback settings.",
) -> typer.models.OptionInfo:
    """``--dev``: the commands that mail or serve accept the example and loopback settings that
    ``papercore.config.require_safe_mail`` otherwise refuses."""
    return typer.Option("--dev", help=help)


def date_option(*names: str, help: str) -> typer.models.OptionInfo:
    """A ``--date``-like option parsed by ``iso_date``."""
    return typer.Option(*names, help=help, parser=iso_date, metavar="YYYY-MM-DD")
