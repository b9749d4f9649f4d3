"""``digest feedback``: mark papers "more / less like this" for a subscriber, as their clicks on
the digest's feedback page would (the same rule: subscribers.feedback)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from digest.cli.app import app, out, runtime
from digest.cli.output import printable
from digest.paper_store import get_papers
from papercore.db.engine import transaction
from papercore.errors import InputError, NotFound
from papercore.papers import arxiv_id
from subscribers import store
from subscribers.feedback import MORE, record_votes, votes_from
from subscribers.model import normalise_email


def _paper_id(raw: str) -> str:
    """An arXiv id or link as its versionless id; any other id (``t:...``) as typed."""
    return arxiv_id(raw) or raw.strip()


@app.command(rich_help_panel="People")
def feedback(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    more: Annotated[
        list[str],
        typer.Option("--more", help="A paper to see more like (repeat).", metavar="PAPER_ID"),
    ] = [],  # noqa: B006
    less: Annotated[
        list[str],
        typer.Option("--less", help="A paper to see less like (repeat).", metavar="PAPER_ID"),
    ] = [],  # noqa: B006
) -> None:
    """Record "more like this" / "less like this" for papers in the store, as the subscriber's
    clicks would; all or nothing. A later vote on the same paper replaces the earlier one.

    Example: digest feedback ada@example.org --more 2406.00001 --more 2406.00007 --less 2406.00002
    """
    votes = votes_from([_paper_id(p) for p in more], [_paper_id(p) for p in less])
    if not votes:
        raise InputError("name at least one paper with --more PAPER_ID or --less PAPER_ID")
    rt = runtime(ctx)
    with transaction(rt.engine()) as connection:
        person = store.get_by_email(connection, normalise_email(email))
        papers = get_papers(connection, list(votes))
        unknown = [paper for paper in votes if paper not in papers]
        if unknown:
            raise NotFound(
                f"no paper {unknown[0]!r} in the store (digest papers list shows the ids)"
            )
        done = record_votes(
            connection,
            person,
            votes,
            rt.now(),
            issue_id=None,
            via="cli",
            keep=rt.settings.ranking.examples_max,
        )
    table = Table(title=f"Feedback for {printable(person.email)}", title_justify="left")
    for column in ("paper", "vote", "title", "change"):
        table.add_column(column)
    for paper_id, vote in votes.items():
        table.add_row(
            printable(paper_id),
            "more" if vote == MORE else "less",
            printable(papers[paper_id].title[:70]),
            "recorded" if paper_id in done.changed else "already so",
        )
    out.print(table)
