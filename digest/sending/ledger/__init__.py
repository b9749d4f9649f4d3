"""The delivery ledger (the deliveries table): the only truth about what was sent. All deliveries
SQL is in this package: ``rows`` (types, scope conditions), ``writes`` (seed, claim, outcomes,
recovery) and ``reads`` (states, retries, counts, listings); their names are re-exported here."""

from digest.sending.ledger.reads import (
    IssueFigures,
    counts,
    counts_in,
    due_retries,
    finished_pairs,
    list_deliveries,
    next_retry_at,
    recent_issue_figures,
    states,
    unfinished,
)
from digest.sending.ledger.rows import (
    FINISHED,
    INTERRUPTED,
    STATUSES,
    Claim,
    Delivery,
    DeliveryStatus,
    LedgerRow,
    Outcome,
)
from digest.sending.ledger.writes import (
    add_pending,
    claim,
    finish,
    recover_interrupted,
    seed_pending,
    skip,
)

__all__ = [
    "FINISHED",
    "INTERRUPTED",
    "STATUSES",
    "Claim",
    "Delivery",
    "DeliveryStatus",
    "IssueFigures",
    "LedgerRow",
    "Outcome",
    "add_pending",
    "claim",
    "counts",
    "counts_in",
    "due_retries",
    "finish",
    "finished_pairs",
    "list_deliveries",
    "next_retry_at",
    "recent_issue_figures",
    "recover_interrupted",
    "seed_pending",
    "skip",
    "states",
    "unfinished",
]
