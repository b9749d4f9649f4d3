"""Structured logs: one line per event, as ``key=value`` text or JSON (``--log-json``)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER = "digest.schedule"
_FIELDS = "digest_fields"


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the event ``name`` with its fields (one line)."""
    logger.log(level, name, extra={_FIELDS: fields})


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    found = getattr(record, _FIELDS, None)
    return dict(found) if isinstance(found, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [ts, f"{record.levelname.lower():7}", record.getMessage()]
        for key, value in _fields(record).items():
            text = str(value)
            parts.append(f"{key}={json.dumps(text) if (' ' in text or not text) else text}")
        if record.exc_info:
            parts.append(
                f"exception={json.dumps(self.formatException(record.exc_info).splitlines()[-1])}"
            )
        return " ".join(parts)


def configure(json_lines: bool, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send digest's and APScheduler's logs to ``stream`` (stderr), one line per event."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler says "Running job ..." twice per run; our own events say it once.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
