"""One error family for paper-digest.

DigestError                  base; ``exit_code`` is what the CLI exits with
├── ConfigError              invalid configuration (exit 2)
├── InputError               malformed input: a page, a CSV, a feed (exit 3)
│   └── ParseError           carries the source name and line number
├── SourceUnavailable        a file or URL that cannot be read (exit 4)
├── StorageError             database unreachable or behind its migrations (exit 5)
├── NotFound                 a subscriber, issue or paper that does not exist (exit 6)
└── DeliveryError            SMTP problems that stop a run (exit 7)
    └── RunPaused            the run was paused (policy rejection, circuit breaker)

Adapters translate library errors into these with ``raise ... from exc``; only the CLI and
web edges turn them into exit codes or HTTP responses.
"""

from __future__ import annotations


class DigestError(Exception):
    exit_code = 1

    def one_line(self) -> str:
        """The message as a single line, for terminals and logs."""
        return " ".join(str(self).split())


class ConfigError(DigestError):
    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class InputError(DigestError):
    exit_code = 3


class ParseError(InputError):
    def __init__(self, source: str, line: int | None, why: str) -> None:
        self.source = source
        self.line = line
        self.why = why
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {why}")


class SourceUnavailable(DigestError):
    exit_code = 4


class StorageError(DigestError):
    exit_code = 5


class NotFound(DigestError):
    exit_code = 6


class DeliveryError(DigestError):
    exit_code = 7


class RunPaused(DeliveryError):
    pass
