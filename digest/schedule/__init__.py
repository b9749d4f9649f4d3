"""Scheduling: who is due now (``due``), the collect and deliver jobs, and the long-running
service behind `digest run` (APScheduler with a persistent job store in our database)."""
