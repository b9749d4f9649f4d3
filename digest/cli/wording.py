"""How the CLI says a count: "1 message", "2 messages" (never "1 messages")."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``count`` followed by the noun in the number it takes (default plural: singular + "s")."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
