"""The ``digest`` command line. Each module registers its commands on ``app``."""

from digest.cli import demo as _demo
from digest.cli import feedback as _feedback  # noqa: F401
from digest.cli import inbound as _inbound  # noqa: F401
from digest.cli import papers as _papers
from digest.cli import preview as _preview  # noqa: F401
from digest.cli import rank as _rank  # noqa: F401
from digest.cli import run as _run  # noqa: F401
from digest.cli import sending as _sending
from digest.cli import serve as _serve  # noqa: F401
from digest.cli import subscribers as _subscribers
from digest.cli import worker as _worker  # noqa: F401
from digest.cli.app import app, main

__all__ = ["_demo", "_papers", "_sending", "_subscribers", "app", "main"]
