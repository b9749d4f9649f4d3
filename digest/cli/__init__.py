"""The ``digest`` command line. Each module registers its commands on ``app``.

The command modules are imported when ``main`` runs or ``app`` is first asked for, not when the
package is: a sending process that ``digest send`` spawns runs the console script again as its
``__mp_main__``, and should not pay for the web server, the IMAP reader and every other command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]


def register_commands() -> typer.Typer:
    """The Typer application with every command module's commands on it."""
    from digest.cli import (  # noqa: F401
        demo,
        feedback,
        inbound,
        papers,
        preview,
        rank,
        run,
        sending,
        serve,
        subscribers,
        worker,
    )
    from digest.cli.app import app

    return app


def main(argv: list[str] | None = None) -> None:
    """The ``digest`` console script (see ``digest.cli.app.main``)."""
    from digest.cli.app import main as run_main

    run_main(argv)


def __getattr__(name: str) -> Any:
    if name == "app":
        return register_commands()
    raise AttributeError(f"module 'digest.cli' has no attribute {name!r}")
