"""Fetching the certificate an SNS message names (the port the SES webhook verifies with).

``SnsCertificates`` fetches over https with httpx, only from an SNS domain, and keeps each
certificate in memory; tests inject a fetcher of their own that serves a test certificate."""

from __future__ import annotations

from typing import Protocol

import httpx

from digest.inbound.signatures import WebhookRefused, check_sns_certificate_url

MAX_CERTIFICATE_BYTES = 64_000


class CertificateFetcher(Protocol):
    """Returns the PEM certificate at an SNS SigningCertURL."""

    async def fetch(self, url: str) -> bytes: ...


class SnsCertificates:
    """The real fetcher: https, SNS domains only, cached per URL (the newest CACHED URLs: a
    stranger's query-string variants of a real URL cannot grow it)."""

    CACHED = 16

    def __init__(
        self, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.timeout = timeout
        self.transport = transport  # None: the network
        self._cache: dict[str, bytes] = {}

    async def fetch(self, url: str) -> bytes:
        check_sns_certificate_url(url)
        found = self._cache.get(url)
        if found is not None:
            return found
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, transport=self.transport
            ) as client:
                response = await client.get(url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise WebhookRefused(f"cannot fetch the SNS certificate: {exc}") from exc
        if response.status_code != 200 or len(response.content) > MAX_CERTIFICATE_BYTES:
            raise WebhookRefused(f"cannot fetch the SNS certificate (HTTP {response.status_code})")
        while len(self._cache) >= self.CACHED:
            self._cache.pop(next(iter(self._cache)))
        self._cache[url] = response.content
        return response.content
