"""The operator's "Preview a digest" page: a form with a subscriber and topics (both databases)."""

from __future__ import annotations

import base64
import re
from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.paper_store import ingest
from papercore.config import Settings
from tests.integration.web.test_account_pages import OTHER, PAPER, subscribed
from tests.web_site import Clock, Site

OPERATOR = {"Authorization": "Basic " + base64.b64encode(b"operator:op-secret").decode()}


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    settings.web.operator_password = type(settings.web.operator_password)("op-secret")
    return Site(settings, engine, Clock(now))


def fields_of(page: str) -> set[str]:
    form = page[page.index('<form method="get" action="/operator/preview"') :]
    return set(re.findall(r'name="([^"]+)"', form[: form.index("</form>")]))


def test_the_preview_page_has_a_form_for_a_subscriber_or_topics(site: Site, now: datetime) -> None:
    ingest(site.engine, [PAPER, OTHER], now)
    subscribed(site, "ada@example.org", topics="graph neural networks")
    dashboard = site.client.get("/operator", headers=OPERATOR).text
    assert 'href="/operator/preview"' in dashboard
    form = site.client.get("/operator/preview", headers=OPERATOR)
    assert form.status_code == 200 and fields_of(form.text) == {"show", "subscriber", "topics"}

    def submit(**values: str) -> tuple[int, str]:
        answer = site.client.get(
            "/operator/preview", params={"show": "1"} | values, headers=OPERATOR
        )
        return answer.status_code, answer.text

    status, mail = submit(subscriber="", topics="speech recognition\n")
    assert status == 200 and "Speech recognition with tiny transformers" in mail
    status, mail = submit(subscriber="ada@example.org", topics="")
    assert status == 200 and "molecule generation" in mail.lower()
    status, mail = submit(subscriber="", topics="")
    assert status == 200 and "Trending this week" in mail
    status, page = submit(subscriber="nobody@example.org", topics="")
    assert status == 404 and 'value="nobody@example.org"' in page and 'role="alert"' in page
    status, page = submit(subscriber="ada@example.org", topics="<b>x</b>")
    assert status == 422 and "not both" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert site.client.get("/operator/preview?show=1").status_code == 401
