"""Commands for people: subscribe, subscribers list | import | seed | export | remove | forget."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from digest.cli.app import app, out, runtime
from digest.cli.output import printable
from digest.cli.wording import counted
from digest.paper_store import SeedShelf
from digest.sources.fetch import read
from papercore.db.engine import transaction
from papercore.errors import InputError
from papercore.text import clean_text
from subscribers import store
from subscribers.csv_export import subscribers_csv
from subscribers.csv_import import import_rows, parse_csv
from subscribers.links import feed_link
from subscribers.model import STATUSES, normalise_email
from subscribers.operator_add import OperatorRequest, add_subscriber
from subscribers.paper_list import read_paper_list
from subscribers.rights import export, forget, profile
from subscribers.seeding import SeedLimits, seed_profile
from subscribers.tokens import Signer
from subscribers.unsubscribe import unsubscribe

subscribers_app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers", rich_help_panel="People")

TopicOption = Annotated[list[str], typer.Option("--topic", "-t", help="A topic phrase (repeat).")]


@app.command(rich_help_panel="People")
def subscribe(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    topic: TopicOption = [],  # noqa: B006
    author: Annotated[list[str], typer.Option(help="An author to follow (repeat).")] = [],  # noqa: B006
    mute: Annotated[list[str], typer.Option(help="A phrase to mute (repeat).")] = [],  # noqa: B006
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    frequency: Annotated[str, typer.Option(help="daily | weekly | feed (no mail)")] = "daily",
    weekday: Annotated[
        int, typer.Option(help="Weekly delivery day, 0 = Monday.", min=0, max=6)
    ] = 0,
    hour: Annotated[int | None, typer.Option(help="Local delivery hour, 0-23.")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone or a city, e.g. Europe/Paris or Berlin.")
    ] = None,
    confirmed: Annotated[
        bool, typer.Option("--confirmed", help="Active at once (the operator vouches for consent).")
    ] = False,
) -> None:
    """Add one subscriber. Without --confirmed they wait for double opt-in (status pending).

    Example: digest subscribe ada@example.org --topic "graph neural networks" --confirmed
    """
    rt = runtime(ctx)
    schedule = rt.settings.schedule
    request = OperatorRequest(
        email,
        tuple(topic),
        tuple(author),
        tuple(mute),
        name=name,
        frequency=frequency,
        weekday=weekday,
        hour=schedule.default_hour if hour is None else hour,
        timezone=timezone or schedule.default_timezone,
        confirmed=confirmed,
    )
    with transaction(rt.engine()) as connection:
        subscriber_id, address = add_subscriber(connection, request, rt.now())
    state = "active" if confirmed else "pending (awaiting opt-in)"
    out.print(f"subscribed {printable(address)} (id {subscriber_id}, {state})")


@subscribers_app.command("list")
def subscribers_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List subscribers with their topics.

    Example: digest subscribers list --status active
    """
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(
            f"{status!r} is not one of {', '.join(STATUSES)}", param_hint="--status"
        )
    with runtime(ctx).engine().connect() as connection:
        people = list(store.iter_subscribers(connection, [status] if status else None))
    if as_json:
        out.print_json(json.dumps([profile(p) for p in people]))
        return
    table = Table(title=counted(len(people), "subscriber"), title_justify="left")
    for column in ("id", "email", "status", "frequency", "delivery", "topics"):
        table.add_column(column)
    for person in people:
        table.add_row(
            str(person.id),
            printable(person.email),
            person.status,
            person.frequency,
            f"{person.hour:02d}:00 {printable(person.timezone)}",
            printable("; ".join(person.topics)) or "(trending)",
        )
    out.print(table)


@subscribers_app.command("import")
def subscribers_import(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(help="CSV with a header row: email,topics[,name,frequency,timezone,hour]."),
    ],
    consent: Annotated[
        str, typer.Option(help="The wording these people agreed to, recorded as their consent.")
    ],
) -> None:
    """Import subscribers from CSV as active subscribers; suppressed addresses are skipped.

    Example: digest subscribers import lab.csv --consent "Signed up at the NeurIPS booth, 2026"
    """
    rt = runtime(ctx)
    consent = clean_text(consent)
    if not consent:
        raise InputError("--consent must say what the imported people agreed to")
    document = read(file, max_bytes=rt.settings.sources.max_bytes)
    rows = parse_csv(
        document.name,
        document.text(),
        rt.settings.schedule.default_hour,
        rt.settings.schedule.default_timezone,
    )
    with transaction(rt.engine()) as connection:
        counts = import_rows(connection, rows, consent, document.name, rt.now())
    table = Table(title="Imported", title_justify="left")
    for column in ("read", "imported", "already subscribed", "suppressed"):
        table.add_column(column, justify="right")
    table.add_row(
        str(counts.read), str(counts.imported), str(counts.existing), str(counts.suppressed)
    )
    out.print(table)


@subscribers_app.command("seed")
def subscribers_seed(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    file: Annotated[
        str,
        typer.Argument(
            help="arXiv ids or links, or titles, one per line; a BibTeX file; or a Zotero CSV."
        ),
    ],
) -> None:
    """Teach a subscriber's ranking from papers they like. Papers found in the store (by arXiv
    id or title) become "more like this" examples; papers the file gives with a title and an
    abstract are kept with that subscriber only (private examples, never added to the paper
    store); the rest is listed as not found. At most ranking.seed_list_max papers are read from
    the file, and the subscriber keeps their newest ranking.examples_max examples.

    Example: digest subscribers seed ada@example.org my-library.bib
    """
    rt = runtime(ctx)
    document = read(file, max_bytes=rt.settings.sources.max_bytes)
    listed = read_paper_list(document.text())
    if not listed.cited and not listed.unreadable:
        raise InputError(f"{document.name}: no papers in it (arXiv ids, titles, BibTeX or CSV)")
    limits = SeedLimits.from_settings(rt.settings.ranking)
    with transaction(rt.engine()) as connection:
        person = store.get_by_email(connection, normalise_email(email))
        shelf = SeedShelf(connection)
        plan = seed_profile(connection, shelf, person, listed, rt.now(), via="cli", limits=limits)
    table = Table(title=f"Seeded {printable(person.email)}", title_justify="left")
    for column in ("result", "paper", "title"):
        table.add_column(column)
    for paper in plan.liked:
        table.add_row("liked", printable(paper.id), printable(paper.title[:70]))
    for seed in plan.private:
        table.add_row("kept privately", printable(seed.arxiv or ""), printable(seed.title[:70]))
    for missing in plan.missing:
        table.add_row("not found", "", printable(missing[:70]))
    out.print(table)
    out.print(printable(plan.summary().removesuffix(":")))


@subscribers_app.command("export")
def subscribers_export(
    ctx: typer.Context,
    email: Annotated[
        str | None, typer.Argument(help="One subscriber: everything held, as JSON.")
    ] = None,
) -> None:
    """Export all subscribers as CSV (the import format; cells that a spreadsheet would run as
    formulas are prefixed with '), or everything held about one as JSON.

    Example: digest subscribers export > subscribers.csv
    """
    run = runtime(ctx)
    with run.engine().connect() as connection:
        if email is not None:
            data = export(connection, normalise_email(email))
            person = store.get(connection, int(data["id"]))
            settings = run.settings
            signer = Signer.from_settings(settings.web)
            base = settings.app.base_url
            url = feed_link(base, signer, person.id, person.feed_version, run.now())
            print(json.dumps(data | {"feed_url": url}, indent=2, ensure_ascii=False))
            return
        # cells that a spreadsheet would run as formulas are escaped (subscribers/csv_export.py)
        print(subscribers_csv(store.iter_subscribers(connection)), end="")


@subscribers_app.command("remove")
def subscribers_remove(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
) -> None:
    """Unsubscribe someone on their behalf: they get no more mail; their consent record stays.

    Example: digest subscribers remove ada@example.org
    """
    rt = runtime(ctx)
    with transaction(rt.engine()) as connection:
        person = store.get_by_email(connection, normalise_email(email))
        changed = unsubscribe(connection, person, rt.now(), via="cli", ip=None, user_agent=None)
    shown = printable(person.email)
    out.print(f"unsubscribed {shown}" if changed else f"{shown} was already unsubscribed")


@subscribers_app.command("forget")
def subscribers_forget(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The person's address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase everything held about a person; keep only a hash of the address so it is never
    mailed or imported again.

    Example: digest subscribers forget ada@example.org --yes
    """
    rt = runtime(ctx)
    address = normalise_email(email)
    if not yes:
        typer.confirm(f"Erase all data about {address}?", abort=True)
    with transaction(rt.engine()) as connection:
        existed = forget(connection, address, rt.now())
    what = "erased" if existed else "no data held about"
    out.print(f"{what} {printable(address)}; the address is suppressed (kept only as a hash)")
