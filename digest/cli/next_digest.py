"""`digest status --subscriber EMAIL`: the subscriber's next digest as the scheduler will deliver
it: when, what it would hold if it were built now, or why it would be skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from digest.cli.app import out
from digest.cli.output import printable
from digest.cli.wording import counted
from digest.schedule.due import zone_of
from digest.schedule.outlook import outlook
from papercore.config import Settings
from subscribers import store

TOP = 5


def explain_next_digest(engine: Engine, settings: Settings, email: str, now: datetime) -> None:
    """Print when the next digest comes, and its papers (count and top titles) or why not."""
    with engine.connect() as connection:
        person = store.get_by_email(connection, email)
    found = outlook(engine, settings, person, now)
    coming = found.coming
    out.print(f"subscriber {printable(person.email)} ({person.status}, {person.frequency})")
    if coming.at is None or coming.issue is None:
        out.print(f"next digest: none ({printable(found.skip_reason or '')})")
        return
    local = coming.at.astimezone(zone_of(person.timezone, settings.schedule.default_timezone))
    kind = "first digest" if coming.first else "next digest"
    where = "by email" if coming.by_mail else "to their feed (no email)"
    when = (
        "due now: the next deliver pass serves it"
        if coming.due_now
        else f"{coming.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    )
    out.print(
        f"{kind} ({where}): issue {coming.issue.issue_date.isoformat()}/{coming.issue.frequency}, "
        f"{when}; {local:%A %-d %B %H:%M} {printable(person.timezone)}"
    )
    picks = found.preview.picks if found.preview is not None else ()
    if found.skip_reason is not None:  # the scheduler's skip, or the send's: the same words
        out.print(f"it would be skipped if built now: {printable(found.skip_reason)}")
        return
    out.print(f"if built now it would hold {counted(len(picks), 'paper')}:")
    for rank, pick in enumerate(picks[:TOP], start=1):
        out.print(f"  {rank}. {printable(pick.paper.title)}", soft_wrap=True)
    if len(picks) > TOP:
        out.print(f"  … and {len(picks) - TOP} more")
