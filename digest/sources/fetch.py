"""Reading a source document from a file or an http(s) URL, with limits, timeouts and retries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from papercore.errors import InputError, ParseError, SourceUnavailable

USER_AGENT = "paper-digest/0.1 (+https://github.com/paper-digest)"


@dataclass(frozen=True, slots=True)
class Document:
    name: str  # the path or URL, for error messages
    data: bytes

    def text(self) -> str:
        """The document as text; binary garbage is a one-line error naming the line."""
        if b"\x00" in self.data:
            line = self.data[: self.data.index(b"\x00")].count(b"\n") + 1
            raise ParseError(self.name, line, "binary data (NUL byte), not a text document")
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            raise ParseError(self.name, line, "not valid UTF-8 text") from exc


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def read(
    location: str,
    *,
    max_bytes: int,
    timeout: float = 20.0,
    retries: int = 3,
    client: httpx.Client | None = None,
) -> Document:
    """Read ``location`` (a path or an http(s) URL) into memory, refusing more than max_bytes."""
    if is_url(location):
        return _read_url(location, max_bytes, timeout, retries, client)
    return _read_file(Path(location), max_bytes)


def _read_file(path: Path, max_bytes: int) -> Document:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte limit")
        return Document(str(path), path.read_bytes())
    except FileNotFoundError as exc:
        raise SourceUnavailable(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise SourceUnavailable(f"{path}: is a directory, not a file") from exc
    except PermissionError as exc:
        raise SourceUnavailable(f"{path}: permission denied") from exc


_RETRYABLE_STATUS = {429, 500, 502, 503, 504}


def _read_url(
    url: str, max_bytes: int, timeout: float, retries: int, client: httpx.Client | None
) -> Document:
    own = client is None
    http = client or httpx.Client(
        timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )
    try:
        for attempt in range(retries + 1):
            try:
                return _download(http, url, max_bytes)
            except _Retryable as exc:
                if attempt == retries:
                    raise SourceUnavailable(f"{url}: {exc} (after {retries + 1} attempts)") from exc
                time.sleep(min(0.2 * 2**attempt, 5.0))
        raise AssertionError("unreachable")
    finally:
        if own:
            http.close()


class _Retryable(Exception):
    pass


def _download(http: httpx.Client, url: str, max_bytes: int) -> Document:
    try:
        with http.stream("GET", url) as response:
            if response.status_code in _RETRYABLE_STATUS:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise SourceUnavailable(f"{url}: HTTP {response.status_code}")
            chunks: list[bytes] = []
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise InputError(f"{url}: response is over the {max_bytes:,}-byte limit")
                chunks.append(chunk)
            return Document(url, b"".join(chunks))
    except httpx.TimeoutException as exc:
        raise _Retryable("timed out") from exc
    except httpx.TransportError as exc:
        raise _Retryable(f"cannot connect ({type(exc).__name__}: offline or host down?)") from exc
