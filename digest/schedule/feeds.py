"""Filing "feed only" subscribers' digests: no mail, but each daily issue's picks for them are
ranked and laid out by the one personal-digest builder and recorded in the ledger as ``filed``
(with the plan's reasons and headings), so that their Atom feed lists them exactly as a mail
would have shown them.

Choice: a feed-only subscriber is ranked with the **daily** issue of their local date, at their
delivery hour (``due.feed_slot_of``); the memory and last_digest_at move as for a mailed digest,
so the feed never repeats a paper and the new-paper rule is the same. A pass is safe to repeat:
an (issue, subscriber) that already has a ledger row is never filed twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Engine

from digest.compose import IssueInfo
from digest.memory import delivered_many, remember_many
from digest.personal import IssueDigests, PersonalDigests
from digest.schedule.due import IssueKey
from digest.sending import lifecycle
from digest.sending.ledger.feed import file_for_feed
from papercore.config import Settings
from papercore.db.engine import transaction
from subscribers import store

PAGE = 500


def file_feeds(
    engine: Engine,
    settings: Settings,
    due: Mapping[IssueKey, Sequence[int]],
    now: datetime,
    *,
    empty: Mapping[IssueKey, Sequence[tuple[int, str]]] | None = None,
    digests: IssueDigests | None = None,
) -> int:
    """File the picks of the feed-only subscribers in ``due`` (issue → subscriber ids, id
    order) for their issue, and record ``empty`` ones (with why) as skipped; returns how many
    were filed.
    Each issue is then settled (``lifecycle.settle_filed``): one opened only for feeds is done.
    ``digests`` (at ``now``) are the pass's, shared with the mail it sent."""
    digests = digests or IssueDigests(engine, settings, now)
    filed = 0
    touched: dict[int, None] = {}
    for key, skipped in (empty or {}).items():
        issue = lifecycle.open_for(engine, key.issue_date, key.frequency, now)
        touched[issue.id] = None
        with transaction(engine) as connection:
            for sid, why in skipped:
                file_for_feed(connection, issue.id, sid, None, now, reason=why)
    for key, ids in due.items():
        if not ids:
            continue
        issue = lifecycle.open_for(engine, key.issue_date, key.frequency, now)
        touched[issue.id] = None
        personal = digests.of(IssueInfo(issue.id, issue.date, issue.frequency))
        for start in range(0, len(ids), PAGE):
            filed += _file_page(engine, personal, issue.id, ids[start : start + PAGE], now)
    for issue_id in touched:
        lifecycle.settle_filed(engine, issue_id, now)
    return filed


def _file_page(
    engine: Engine, digests: PersonalDigests, issue_id: int, ids: Sequence[int], now: datetime
) -> int:
    """One page of subscribers in one transaction: ledger rows, memory and last_digest_at."""
    wanted = set(ids)
    filed = 0
    with transaction(engine) as connection:
        people = [
            s
            for s in store.iter_subscribers(
                connection, ["active"], after_id=ids[0] - 1, up_to_id=ids[-1]
            )
            if s.id in wanted and not s.mailed
        ]
        digests.prefetch_examples(connection, people)
        memory = delivered_many(connection, [s.id for s in people])
        for person in people:
            picks = digests.picks(person, memory.get(person.id, set()))
            laid_out = digests.plan(person, picks)
            why = digests.why_no_picks(person) if not picks else None
            if not file_for_feed(connection, issue_id, person.id, laid_out, now, reason=why):
                continue
            if not picks:
                continue
            remember_many(connection, issue_id, [(person.id, list(laid_out.paper_ids))], now)
            store.mark_digest_received(connection, [(person.id, digests.now)])
            filed += 1
    return filed
