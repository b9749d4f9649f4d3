"""Scale-out (``[queue] backend = "procrastinate"``): batch jobs on PostgreSQL, run by any number
of ``digest worker`` processes on any machines.

- ``jobs``: the procrastinate App on the configured PostgreSQL database, the batch task's name,
  and applying procrastinate's schema (idempotently, on ``digest init``).
- ``dispatch``: the scheduler's sender for this backend: an issue's pending ledger rows and the
  batch jobs that will send them are written in one transaction.
- ``batches``: cutting subscriber ids into ranges of ``queue.batch_size`` and naming their locks.
- ``pacing``: the global rate limit and the per-domain connection cap, shared through PostgreSQL.
- ``worker``: what a worker process does with a batch; stalled batches of dead workers go back.
- ``status``: workers seen and batches queued / running / done / failed.
"""
