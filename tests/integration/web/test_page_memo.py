"""Issue 22 (web attacks, finding 5): concurrent cold requests for one public issue build it
once (single flight, on the app object), and a subscriber's preview of their next digest
(/view/<token> without an issue, about a CPU-second) is built once per profile, pool and hour
however often it is opened. Through the real app."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from digest.paper_store import ingest
from digest.web import archive_pages
from papercore.papers import Paper
from tests.integration.web.test_page_work import WAIT, published_issue, site  # noqa: F401
from tests.integration.web.test_seed_privacy import links, person_at
from tests.web_site import Site

REQUESTS = 8


def test_concurrent_cold_requests_for_one_issue_build_it_once(
    site: Site,  # noqa: F811
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = published_issue(site, now)
    arrived, all_in = [0], threading.Event()
    builds: list[int] = []
    guard = threading.Lock()
    get_issue, build = archive_pages.get_issue, archive_pages.PersonalDigests.build

    def counted_get_issue(*args: Any) -> Any:
        with guard:
            arrived[0] += 1
            if arrived[0] == REQUESTS:
                all_in.set()
        return get_issue(*args)

    def gated_build(*args: Any) -> Any:
        builds.append(1)
        all_in.wait(WAIT)  # every request is in before the first build finishes
        return build(*args)

    monkeypatch.setattr(archive_pages, "get_issue", counted_get_issue)
    monkeypatch.setattr(archive_pages.PersonalDigests, "build", gated_build)
    with ThreadPoolExecutor(REQUESTS) as pool:
        codes = list(
            pool.map(lambda _: site.client.get(f"/issue/{number}").status_code, range(REQUESTS))
        )
    assert codes == [200] * REQUESTS
    assert all_in.is_set()
    assert len(builds) == 1


def test_a_preview_is_built_once_per_profile_and_pool(
    site: Site,  # noqa: F811
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published_issue(site, now)
    site.signup("ada@example.org")
    site.confirm(site.mailer.last("confirm").links["confirm"])
    person = person_at(site, "ada@example.org")
    path = site.path_of(links(site, person).view_in_browser)
    builds: list[int] = []
    preview = archive_pages.preview_digest

    def counted(*args: Any) -> Any:
        builds.append(1)
        return preview(*args)

    monkeypatch.setattr(archive_pages, "preview_digest", counted)
    pages = {site.client.get(path).text for _ in range(5)}
    assert len(pages) == 1 and len(builds) == 1
    ingest(site.engine, [Paper("2411.00199", "A newer paper", "Fresh.")], site.clock())
    site.client.get(path)  # the pool changed: built again
    assert len(builds) == 2
