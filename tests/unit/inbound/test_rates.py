"""The 30-day rates: which refusals count as bounces, and the warnings the operator sees."""

from __future__ import annotations

import pytest

from digest.inbound.rates import is_refused_bounce, rates_of, refused_bounces


@pytest.mark.parametrize(
    ("reply", "bounce"),
    [
        ("550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown", True),
        ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found", True),
        ("553 sorry, that domain isn't in my list of allowed rcpthosts", True),
        ("550 not relaying to that domain", True),  # bare 550: as the send policy reads it
        ("552 5.2.2 mailbox full", False),  # a failure, not a missing mailbox
        ("554 5.6.0 message content rejected", False),
        ("gave up after 5 attempts: 421 4.7.0 too busy", False),
        ("", False),
    ],
)
def test_a_refusal_is_a_bounce_when_the_send_policy_calls_it_one(reply: str, bounce: bool) -> None:
    assert is_refused_bounce(reply) is bounce


def test_refusals_at_rcpt_count_as_sent_and_bounced_and_warn_the_operator() -> None:
    refused = {
        ("failed", "550 5.1.1 no such user"): 2,
        ("failed", "552 5.2.2 mailbox full"): 5,
        ("bounced", "5.1.1 The email account does not exist"): 1,  # refused, then a DSN came
    }
    rates = rates_of(
        {"sent": 96, "bounced": 1, "complained": 0}, 30, refused=refused_bounces(refused)
    )
    assert (rates.sent, rates.bounced) == (100, 4)
    assert rates.warnings == [
        "bounce rate 4.00% over the last 30 days is above 2%: clean the list (old or bought "
        "addresses?)"
    ]


def test_no_refusals_change_nothing() -> None:
    rates = rates_of({"sent": 1000, "bounced": 1, "complained": 1}, 30)
    assert (rates.sent, rates.bounced, rates.complained) == (1002, 1, 1)
    assert rates.warnings == []
