"""``digest rank``: a subscriber's next picks, or what topics get from the stored papers."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from digest.cli.app import app, out, runtime
from digest.cli.options import date_option
from digest.cli.output import printable
from digest.cli.progress import embedding_progress
from digest.cli.wording import counted
from digest.paper_store import list_papers
from papercore.errors import InputError, NotFound
from subscribers import store
from subscribers.model import Interest, clean_phrases, normalise_email

if TYPE_CHECKING:
    from digest.ranking import Pick


@app.command(rich_help_panel="Papers")
def rank(
    ctx: typer.Context,
    subscriber: Annotated[
        str | None,
        typer.Option(
            "--subscriber",
            "-s",
            help="Rank for this subscriber (their interests).",
            metavar="EMAIL",
        ),
    ] = None,
    topics: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="A topic phrase; repeat for several.", metavar="TOPIC"),
    ] = None,
    authors: Annotated[
        list[str] | None,
        typer.Option("--author", help="Follow an author; repeatable.", metavar="NAME"),
    ] = None,
    mutes: Annotated[
        list[str] | None,
        typer.Option("--mute", help="Mute a phrase; repeatable.", metavar="PHRASE"),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            help="How many picks (default: ranking.picks; for a subscriber, at most the digest's).",
            min=1,
            max=1000,
        ),
    ] = None,
    since: Annotated[
        date | None,
        date_option(help="Topics only: papers first seen, posted or published on/after this."),
    ] = None,
    on: Annotated[
        date | None,
        date_option("--date", help="--subscriber only: the issue's date (default today, UTC)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, best first.")
    ] = False,
) -> None:
    """Rank papers for a subscriber or for topics, best first, with why.

    With --subscriber, these are exactly the picks of their next digest (the issue of --date
    at their frequency, as `digest send` builds it now: that issue's papers, minus what they
    already received or had a digest for). With --topic/--author/--mute, or nothing (the
    global trending digest), this explores every stored paper, or those since --since: the
    same ranking, over a wider pool than any digest.

    Example: digest rank --topic "graph neural networks" --topic "wireless networks" --limit 5
    """
    if subscriber and (topics or authors or mutes):
        raise InputError("use either --subscriber or --topic/--author/--mute, not both")
    if subscriber and since:
        raise InputError("--since is for topics; a subscriber's ranking uses their next issue")
    rt = runtime(ctx)
    settings = rt.settings
    from digest.personal import index_papers, preview_digest

    engine = rt.engine()
    if subscriber:
        with engine.connect() as connection:
            person = store.find(connection, normalise_email(subscriber))
        if person is None:
            raise NotFound(f"no subscriber {subscriber.strip()[:80]!r}")
        with embedding_progress() as on_embed:
            found = preview_digest(engine, settings, person, rt.now(), day=on, on_embed=on_embed)
        picks = list(found.picks[:limit])
        ranker, pool = found.digests.ranker, found.digests.pool_size
    else:
        interests = [
            *(Interest("topic", p) for p in clean_phrases(topics or [], "topic")),
            *(Interest("author", p) for p in clean_phrases(authors or [], "author")),
            *(Interest("mute", p) for p in clean_phrases(mutes or [], "muted phrase")),
        ]
        with engine.connect() as connection:
            papers = list_papers(connection, since)
        with embedding_progress() as on_embed:
            ranker = index_papers(engine, papers, settings, on_embed)
        picks = ranker.rank(interests, limit=limit or settings.ranking.picks, now=rt.now())
        pool = len(papers)
    if as_json:
        out.print_json(json.dumps([pick_json(p) for p in picks]))
        return
    what = "semantic + lexical" if ranker.is_semantic else "lexical"
    table = Table(
        title=f"{len(picks)} of {counted(pool, 'paper')} ({what} ranking)", title_justify="left"
    )
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("title")
    table.add_column("why")
    for n, pick in enumerate(picks, 1):
        table.add_row(
            str(n),
            f"{pick.score:.3f}",
            printable(pick.paper.title[:100]),
            printable("; ".join(pick.why)),
        )
    out.print(table)


def pick_json(pick: Pick) -> dict[str, Any]:
    """A pick as JSON-ready data."""
    paper = pick.paper
    return {
        "id": paper.id,
        "title": paper.title,
        "score": pick.score,
        "relevance": round(pick.relevance, 6),
        "why": list(pick.why),
        "link": paper.link,
        "authors": list(paper.authors),
        "upvotes": paper.upvotes,
        "comments": paper.comments,
        "posted_at": paper.posted_at.isoformat() if paper.posted_at else None,
    }

