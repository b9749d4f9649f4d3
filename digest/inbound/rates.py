"""The operator's figures: bounce and complaint rates of the messages sent in the last 30 days,
with a warning above the thresholds mailbox providers hold senders to (0.1 % complaints: Gmail
and Yahoo reject bulk senders above 0.3 %; 2 % bounces). A bounce is one that came back later
(``bounced``) or one the relay refused at RCPT for a mailbox that does not exist (recorded
``failed`` by the send loop, as its policy calls a bounce): both count as sent and bounced."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from digest.inbound import store as inbound_store
from digest.sending import ledger
from digest.sending.policy import Verdict, classify
from digest.sending.transports import Reply

WINDOW_DAYS = 30
COMPLAINT_WARNING = 0.001
BOUNCE_WARNING = 0.02
_REPLY = re.compile(r"^([2-5]\d\d)(?:[ -](.*))?$", re.DOTALL)  # "550 5.1.1 No such user"


@dataclass(frozen=True, slots=True)
class ReturnRates:
    """Messages sent in the window, how many bounced or were reported as spam, and the messages
    kept for the operator."""

    days: int
    sent: int
    bounced: int
    complained: int
    kept: int = 0

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    @property
    def warnings(self) -> list[str]:
        """One line per rate above its threshold."""
        found = []
        if self.complaint_rate > COMPLAINT_WARNING:
            found.append(
                f"complaint rate {self.complaint_rate:.2%} over the last {self.days} days is above "
                f"{COMPLAINT_WARNING:.1%}: mailbox providers will start refusing your mail"
            )
        if self.bounce_rate > BOUNCE_WARNING:
            found.append(
                f"bounce rate {self.bounce_rate:.2%} over the last {self.days} days is above "
                f"{BOUNCE_WARNING:.0%}: clean the list (old or bought addresses?)"
            )
        return found


def rates_of(counts: Mapping[str, int], days: int, kept: int = 0, refused: int = 0) -> ReturnRates:
    """The rates of ledger counts by status (sent, bounced, complained), all of which left, and
    of ``refused`` messages the relay turned down as bounces before they left."""
    bounced = counts.get("bounced", 0) + refused
    complained = counts.get("complained", 0)
    sent = counts.get("sent", 0) + bounced + complained
    return ReturnRates(days, sent, bounced, complained, kept)


def is_refused_bounce(reply: str) -> bool:
    """Whether a ``failed`` delivery's last reply is what the send policy calls a bounce (the
    mailbox does not exist: 5.1.x, or a bare 550/551/553). The ledger keeps the reply, not the
    SMTP stage, so a bare 550 is read as a refusal at RCPT, where the relay checks mailboxes."""
    match = _REPLY.match(reply.strip())
    if match is None:
        return False  # "gave up after N attempts: ...": never a permanent refusal
    refusal = Reply(int(match.group(1)), match.group(2) or "", stage="rcpt")
    return classify(refusal) is Verdict.BOUNCE


def refused_bounces(refused: Mapping[tuple[str, str], int]) -> int:
    """How many of the messages that never left bounced: refused as a bounce, or marked
    ``bounced`` afterwards by a bounce that came back."""
    return sum(
        n
        for (status, reply), n in refused.items()
        if status == "bounced" or is_refused_bounce(reply)
    )


def return_rates(connection: Connection, now: datetime, days: int = WINDOW_DAYS) -> ReturnRates:
    """The rates of the messages sent, or refused as bounces, in the ``days`` before ``now``."""
    since = now - timedelta(days=days)
    counts = ledger.sent_since(connection, since)
    refused = refused_bounces(ledger.refused_since(connection, since))
    return rates_of(counts, days, inbound_store.kept_count(connection), refused)
