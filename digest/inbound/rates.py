"""The operator's figures: bounce and complaint rates of the messages sent in the last 30 days,
with a warning above the thresholds mailbox providers hold senders to (0.1 % complaints: Gmail
and Yahoo reject bulk senders above 0.3 %; 2 % bounces)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from digest.inbound import store as inbound_store
from digest.sending import ledger

WINDOW_DAYS = 30
COMPLAINT_WARNING = 0.001
BOUNCE_WARNING = 0.02


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


def rates_of(counts: dict[str, int], days: int, kept: int = 0) -> ReturnRates:
    """The rates of ledger counts by status (sent, bounced, complained), all of which left."""
    bounced, complained = counts.get("bounced", 0), counts.get("complained", 0)
    sent = counts.get("sent", 0) + bounced + complained
    return ReturnRates(days, sent, bounced, complained, kept)


def return_rates(connection: Connection, now: datetime, days: int = WINDOW_DAYS) -> ReturnRates:
    """The rates of the messages sent in the ``days`` before ``now``."""
    counts = ledger.sent_since(connection, now - timedelta(days=days))
    return rates_of(counts, days, inbound_store.kept_count(connection))
