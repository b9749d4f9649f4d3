"""One error path: unexpected exceptions, odd form input and huge ids never escape as a bare 500
or a reset connection (issue 15), through the real app in process (both databases)."""

from __future__ import annotations

import logging
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from digest.sending.notice_mail import RecordingMailer
from digest.web import create_app
from digest.web.state import web_templates_dir
from papercore.config import Settings
from tests.web_site import Clock, Site


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def test_an_unexpected_exception_is_a_styled_500_with_the_headers_and_a_logged_id(
    settings: Settings,
    engine: Engine,
    now: datetime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = tmp_path / "web"
    shutil.copytree(web_templates_dir(settings), broken)
    # a template that raises while rendering stands for any bug in a handler
    (broken / "archive.html").write_text('{% extends "base.html" %}{% block main %}{{ 1 // 0 }}')
    from starlette.testclient import TestClient

    app = create_app(settings, engine, RecordingMailer(), clock=Clock(now), templates_dir=broken)
    with caplog.at_level(logging.ERROR, logger="digest.web"):
        page = TestClient(app).get("/archive")
    assert page.status_code == 500
    assert "Something went wrong" in page.text and '<link rel="stylesheet"' in page.text
    error_id = re.search(r"error ([0-9a-f]{12})", page.text)
    assert error_id is not None
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    logged = [r for r in caplog.records if error_id.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log, not the page
    assert "ZeroDivisionError" not in page.text


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"hour": "²"}, "hour"),
        ({"hour": "٣"}, "hour"),  # Arabic-Indic three: isdigit() too
        ({"frequency": "weekly", "weekday": "²"}, "weekday"),
        ({"timezone": "Europe/" + "x" * 290}, "timezone"),
        ({"timezone": "a" * 256}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
    ],
)
def test_odd_form_input_is_a_form_error_not_a_500(
    site: Site, fields: dict[str, str], field: str
) -> None:
    status, page = site.signup("ada@example.org", **fields)
    assert status == 422, page[:500]
    assert "Something went wrong" not in page
    assert 'class="error"' in page or "error" in page.lower()  # the field says what is wrong
    assert not site.mailer.sent


def test_a_huge_issue_number_is_not_found(site: Site) -> None:
    page = site.client.get("/issue/99999999999999999999999")
    assert page.status_code == 404 and "There is no such issue" in page.text
    assert page.headers["x-frame-options"] == "DENY"
