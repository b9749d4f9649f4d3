"""A page's writes in one round trip: on PostgreSQL the statements of ``one_round_trip`` are
queued in psycopg's pipeline and land together with the claim that follows; on SQLite it is a
plain transaction. Either way the ledger, the memory and last_digest_at read as before."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import Engine, select

from digest.memory import delivered_many
from digest.sending import ledger
from digest.sending.ledger import Outcome
from digest.sending.recorder import Effects, Recorder
from digest.sending.roundtrip import one_round_trip
from digest.sending.scope import SendScope
from papercore.config import Settings
from papercore.db.engine import transaction
from papercore.db.schema import subscribers
from tests.integration.sending.support import add_subscribers, an_issue, ledger_rows


def test_a_page_records_outcomes_and_claims_more_in_one_go(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    done, fresh, taken = add_subscribers(
        engine, now, ["done@example.org", "fresh@example.org", "taken@example.org"]
    )
    issue = an_issue(engine, now)
    claims = [ledger.Claim(sid, f"<{sid}@x>", ("p1", "p2"), 10) for sid in (done, fresh, taken)]
    with transaction(engine) as connection:
        ledger.seed_pending(connection, SendScope(issue.id), "daily", now)
        assert ledger.claim(connection, issue.id, [claims[0], claims[2]], now) == {done, taken}

    recorder = Recorder(engine, settings, issue.id, lambda: now, random.Random(1), None)
    finished = Effects([Outcome(done, "sent", "250 ok")], [(done, ("p1", "p2"), None)])
    with transaction(engine) as connection:
        with one_round_trip(connection):
            pipelined = getattr(connection.connection.driver_connection, "_pipeline", None)
            assert (pipelined is not None) == (engine.dialect.name == "postgresql")
            recorder.write_outcomes(connection, finished, now)
            ledger.describe_claims(connection, issue.id, claims[1:], now)
        claimed = ledger.take_claims(connection, issue.id, claims[1:], now)

    assert claimed == {fresh}  # "taken" is another runner's: in flight, not claimable
    rows = ledger_rows(engine, issue.id)
    assert rows[done][0] == "sent" and rows[fresh][0] == "sending" and rows[taken][0] == "sending"
    with engine.connect() as connection:
        assert delivered_many(connection, [done, fresh]) == {done: {"p1", "p2"}, fresh: set()}
        found = connection.execute(
            select(subscribers.c.id, subscribers.c.last_digest_at).where(
                subscribers.c.id.in_([done, fresh])
            )
        ).all()
    assert {sid for sid, at in found if at is not None} == {done}  # only a sent message counts
