"""Where the email templates live, and the Jinja environment that renders them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import mjml
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

import digest
from digest.compose.text import wrap
from papercore.config import Settings
from papercore.errors import ConfigError

_PACKAGED = Path(digest.__file__).resolve().parent / "templates"  # wheel: hatch force-include
_SOURCE = Path(digest.__file__).resolve().parent.parent / "templates"  # editable install


def builtin_templates_dir() -> Path:
    """The templates shipped with paper-digest: inside the package when installed from a
    wheel, else the source tree's top-level ``templates/``."""
    return _PACKAGED if (_PACKAGED / "email").is_dir() else _SOURCE


def templates_dir(settings: Settings, override: Path | None = None) -> Path:
    """The one place that decides which templates folder is used: ``override``, else
    ``templates.dir`` from the configuration, else the built-in one. The folder holds
    ``email/`` (and the web app's ``web/``)."""
    chosen = override or settings.templates.dir or builtin_templates_dir()
    if not (chosen / "email").is_dir():
        raise ConfigError([f"templates.dir: {chosen} has no email/ folder (copy templates/)"])
    return chosen


@lru_cache(maxsize=8)
def email_environment(root: Path) -> Environment:
    """A Jinja environment for ``root/email``. Files an operator's copy lacks fall back to the
    built-in ones, so a copy may hold only the templates it changes. ``.mjml.j2`` templates are
    HTML-escaped by default; ``.txt.j2`` ones are not (they are plain text)."""
    folders = [root / "email"]
    builtin = builtin_templates_dir() / "email"
    if builtin.resolve() != folders[0].resolve():
        folders.append(builtin)
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=select_autoescape(enabled_extensions=("mjml.j2", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,  # `digest preview --serve` shows template edits on reload
    )
    env.filters["wrap78"] = wrap
    return env


def compile_mjml(source: str) -> str:
    """MJML to HTML with MRML (no web fonts are imported: the theme uses system fonts)."""
    return str(mjml.mjml2html(source, fonts={}))
