"""Web forms pass what people type through the one text cleaner: a topic with noncharacters or
invisible characters is stored clean, and the pages and mail that show it answer."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from papercore.config import Settings
from subscribers import store
from tests.web_site import Clock, Site


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    return Site(settings, engine, Clock(now))


def test_signup_topics_are_stored_without_noncharacters_or_invisible_characters(
    site: Site,
) -> None:
    topics = "graph\uffff neural\u202e networks\r\ndiff\ufffeusion\ufdd0 models\n\U0010ffff"
    status, page = site.signup("ada@example.org", topics=topics, website="")
    assert status == 200, page
    with site.engine.connect() as connection:
        person = store.get_by_email(connection, "ada@example.org")
    assert person.topics == ("graph neural networks", "diffusion models")
    assert len(site.mailer.sent) == 1  # the confirmation mail went out
