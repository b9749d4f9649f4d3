"""Issue 15: the signup path does the same database work and the same outbox write for new,
pending, active and paused addresses (the mail differs), so its timing tells nobody apart."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from digest.sending import outbox
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store
from tests.web_site import Clock, Site


@pytest.fixture
def site(settings: Settings, engine: Engine, now: datetime) -> Site:
    settings.web.signup_per_address_per_day = 100
    return Site(settings, engine, Clock(now))


def writes(site: Site, email: str) -> tuple[int, int]:
    """(signup events for ``email``, outbox rows) after one more signup of ``email``."""
    status, page = site.signup(email)
    assert status == 200 and "Check your inbox" in page
    with site.engine.connect() as connection:
        person = store.find(connection, email)
        assert person is not None
        signups = [e for e in store.events(connection, person.id) if e["kind"] == "signup"]
        queued = sum(outbox.counts(connection).values())
    return len(signups), queued


@pytest.mark.parametrize("status", ["pending", "active", "paused"])
def test_a_known_address_gets_the_same_writes_as_a_new_one_and_keeps_its_topics(
    site: Site, now: datetime, status: str
) -> None:
    with transaction(site.engine) as connection:
        store.add(connection, "known@example.org", now, topics=["robotics"], status=status)
    assert writes(site, "new@example.org") == (1, 1)
    assert writes(site, "known@example.org") == (1, 2)  # one event, one mail, like the new one
    kinds = [n.kind for n in site.mailer.sent]
    assert kinds == ["confirm", "confirm" if status == "pending" else "manage"]
    with site.engine.connect() as connection:
        person = store.find(connection, "known@example.org")
    assert person is not None and person.status == status
    if status != "pending":  # a stranger's signup changes nothing of theirs
        assert person.topics == ("robotics",)
