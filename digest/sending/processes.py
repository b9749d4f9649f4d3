"""How many processes one send uses: ``sending.processes`` ("auto" or a number) resolved
against the machine's cores and the subscribers to send to, and the settings a child process
gets (the resolved number, so each takes its share of the global rate)."""

from __future__ import annotations

import os
from typing import Literal

from papercore.config import Settings


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the system has one)."""
    counted = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counted is not None:
        return max(1, counted() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def processes_for(setting: int | Literal["auto"], subscribers: int, cores: int) -> int:
    """The processes to send to ``subscribers`` with: ``cores`` for "auto", else the number
    set; never more than the subscribers (a process with nobody to send to only costs start-up),
    never fewer than one."""
    wanted = cores if setting == "auto" else setting
    return max(1, min(wanted, subscribers))


def with_processes(settings: Settings, processes: int) -> Settings:
    """``settings`` with ``sending.processes`` fixed to ``processes``."""
    sending = settings.sending.model_copy(update={"processes": processes})
    return settings.model_copy(update={"sending": sending})
