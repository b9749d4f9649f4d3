"""The operator login is throttled per client address with exponential backoff, and no number
of strangers can lock out the right password (issue 22: ten wrong passwords from each of ten
addresses refused the right one from any address for an hour). Through the real app."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from papercore.config import Settings
from tests.integration.web.test_proxies import served
from tests.web_site import Clock, Site

BROWSERS = 8
RIGHT = "Basic " + base64.b64encode(b"operator:op-secret").decode()
WRONG = "Basic " + base64.b64encode(b"operator:guess").decode()


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    return Site(settings, engine, Clock(now))  # the defaults: 5 free, 1 s doubling, 100 an hour


def browser(site: Site, address: str) -> TestClient:
    return TestClient(site.client.app, client=(address, 1000))


def guess(client: TestClient, password: str = WRONG) -> httpx.Response:
    return client.get("/operator", headers={"Authorization": password})


def test_a_hundred_failures_from_ten_addresses_do_not_stop_the_right_password(site: Site) -> None:
    attackers = [browser(site, f"198.51.100.{k}") for k in range(1, 11)]
    failures = 0
    for attacker in attackers:
        for _ in range(10):  # each waits as long as it is told to, then guesses again
            answer = guess(attacker)
            if answer.status_code == 429:
                site.clock.advance(int(answer.headers["Retry-After"]))
                answer = guess(attacker)
            assert answer.status_code == 401
            failures += 1
    assert failures == 100  # the old global limit (100 an hour) refused everyone from here on
    operator = browser(site, "203.0.113.11")
    page = guess(operator, RIGHT)
    assert page.status_code == 200 and "Subscribers" in page.text
    # the attackers are backed off, even with the right password (it is not even checked)
    backed_off = guess(attackers[0], RIGHT)
    assert backed_off.status_code == 429 and int(backed_off.headers["Retry-After"]) >= 1
    # while so many fail, a new address gets three tries, then waits a minute, doubling
    newcomer = browser(site, "203.0.113.12")
    assert [guess(newcomer).status_code for _ in range(3)] == [401] * 3
    assert guess(newcomer).headers["Retry-After"] == "60"
    site.clock.advance(60)
    assert guess(newcomer).status_code == 401
    assert guess(newcomer).headers["Retry-After"] == "120"
    assert guess(browser(site, "203.0.113.13"), RIGHT).status_code == 200  # yet never locked


def test_one_address_waits_longer_after_each_failure_until_it_succeeds(site: Site) -> None:
    guesser = browser(site, "198.51.100.1")
    assert [guess(guesser).status_code for _ in range(5)] == [401] * 5
    waits = []
    for _ in range(4):
        refused = guess(guesser, RIGHT)
        assert refused.status_code == 429  # the right password waits too: no shortcut
        waits.append(int(refused.headers["Retry-After"]))
        site.clock.advance(waits[-1])
        assert guess(guesser).status_code == 401
    assert waits == [1, 2, 4, 8]
    assert guess(browser(site, "198.51.100.2"), RIGHT).status_code == 200  # others unaffected
    site.clock.advance(16)
    assert guess(guesser, RIGHT).status_code == 200  # a success clears the record
    assert [guess(guesser).status_code for _ in range(5)] == [401] * 5
    assert guess(guesser).status_code == 429


def test_the_wait_is_capped(site: Site) -> None:
    guesser = browser(site, "198.51.100.1")
    for _ in range(20):
        answer = guess(guesser)
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) <= 900
            site.clock.advance(int(answer.headers["Retry-After"]))
            assert guess(guesser).status_code == 401
    assert guess(guesser).headers["Retry-After"] == "900"


def test_an_ipv6_client_is_throttled_by_its_64(site: Site) -> None:
    for k in range(5):
        assert guess(browser(site, f"2001:db8:1:2::{k + 1}")).status_code == 401
    assert guess(browser(site, "2001:db8:1:2::99"), RIGHT).status_code == 429  # same /64
    assert guess(browser(site, "2001:db8:1:3::1"), RIGHT).status_code == 200  # another /64


def test_a_browser_first_request_without_a_password_is_not_a_try(site: Site) -> None:
    visitor = browser(site, "198.51.100.1")
    for _ in range(20):
        assert visitor.get("/operator").status_code == 401
    assert guess(visitor, RIGHT).status_code == 200


def test_behind_a_trusted_proxy_each_client_address_has_its_own_backoff(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    settings.web.trusted_proxies = ["127.0.0.1"]
    with served(settings, engine, now) as base, httpx.Client(base_url=base, timeout=20) as http:

        def get(client: str, password: str) -> int:
            headers = {"Authorization": password, "X-Forwarded-For": client}
            return http.get("/operator", headers=headers).status_code

        assert [get("198.51.100.1", WRONG) for _ in range(6)] == [401] * 5 + [429]
        assert get("198.51.100.2", RIGHT) == 200  # another client behind the same proxy


def test_parallel_guesses_from_one_address_are_all_counted(site: Site) -> None:
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda _: guess(browser(site, "198.51.100.1")).status_code, range(16))
        )
    assert sorted(codes) == [401] * 5 + [429] * 11  # each try is counted before it is checked


def crowd(site: Site) -> None:
    """A hundred failures from strangers in the last hour: crowd mode (which any stranger can
    keep up)."""
    for k in range(1, 21):
        attacker = browser(site, f"198.51.100.{k}")
        assert [guess(attacker).status_code for _ in range(5)] == [401] * 5


def test_in_crowd_mode_a_typo_then_the_right_password_gets_in(site: Site) -> None:
    crowd(site)
    operator = browser(site, "203.0.113.11")
    assert guess(operator).status_code == 401  # a typo
    assert guess(operator, RIGHT).status_code == 200  # was: 429 for 900 seconds


def test_parallel_right_passwords_from_the_operator_all_get_in_even_in_crowd_mode(
    settings: Settings, engine: Engine, now: datetime
) -> None:
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    settings.web.trusted_proxies = ["127.0.0.1"]
    with served(settings, engine, now) as base, httpx.Client(base_url=base, timeout=20) as http:

        def get(client: str, password: str) -> int:
            headers = {"Authorization": password, "X-Forwarded-For": client}
            return http.get("/operator", headers=headers).status_code

        for k in range(1, 21):  # crowd mode: a hundred failures from twenty strangers
            assert [get(f"198.51.100.{k}", WRONG) for _ in range(5)] == [401] * 5
        assert get("203.0.113.11", WRONG) == 401  # the operator's typo
        with ThreadPoolExecutor(BROWSERS) as pool:
            codes = list(pool.map(lambda _: get("203.0.113.11", RIGHT), range(BROWSERS)))
    assert codes == [200] * BROWSERS  # tabs and previews loading at once: none refused
