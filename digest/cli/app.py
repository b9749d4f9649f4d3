"""The Typer application, the shared per-invocation context, and the error edge."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from digest.cli.output import printable
from papercore.config import Settings, load_settings
from papercore.db.engine import check_current, make_engine
from papercore.errors import DigestError

app = typer.Typer(
    name="digest",
    help="paper-digest: collect research papers, rank them per subscriber, email a daily digest.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)


@dataclass
class Runtime:
    """What a command needs: settings and the database, both made on first use."""

    config: Path | None
    _settings: Settings | None = None
    _engine: Engine | None = None
    clock: datetime | None = field(default=None)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    def engine(self, check: bool = True) -> Engine:
        """The database engine; with check, fail unless the schema is current."""
        if self._engine is None:
            s = self.settings
            self._engine = make_engine(s.database_url, echo=s.database.echo)
            if check:
                check_current(self._engine)
        return self._engine

    def now(self) -> datetime:
        return self.clock or datetime.now(UTC)


def runtime(ctx: typer.Context) -> Runtime:
    found = ctx.find_object(Runtime)
    if found is None:  # pragma: no cover - the callback always sets it
        raise RuntimeError("no runtime")
    return found


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML config file (else $DIGEST_CONFIG, else ./config.toml, else defaults).",
            envvar=None,
        ),
    ] = None,
) -> None:
    ctx.obj = Runtime(config=config)


def main(argv: list[str] | None = None) -> None:
    """The ``digest`` console script: errors become one line on stderr and an exit code."""
    from digest.cli import register_commands

    register_commands()

    try:
        app(args=argv, prog_name="digest")  # click handles usage errors and exits itself
    except DigestError as exc:
        problems = getattr(exc, "problems", None) or [exc.one_line()]
        for problem in problems:
            err.print(f"[bold red]error:[/] {printable(problem)}", markup=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
