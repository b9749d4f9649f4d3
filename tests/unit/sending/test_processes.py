"""How many processes a send uses: "auto" is one per usable core, never more than the
subscribers waiting; a number is taken as set (still capped); bad values are one clear line."""

from __future__ import annotations

import os

import pytest

from digest.sending.processes import processes_for, usable_cores, with_processes
from papercore.config import load_settings
from papercore.errors import ConfigError


def test_auto_is_one_process_per_core_capped_by_the_subscribers() -> None:
    assert processes_for("auto", 20_000, 8) == 8
    assert processes_for("auto", 3, 8) == 3
    assert processes_for("auto", 0, 8) == 1  # nothing waiting: no process pool to start


def test_a_number_is_taken_as_set_but_never_more_than_the_subscribers() -> None:
    assert processes_for(2, 20_000, 8) == 2
    assert processes_for(16, 20_000, 2) == 16
    assert processes_for(4, 1, 8) == 1


def test_usable_cores_are_this_process_cores() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable_cores() == expected


def test_auto_is_the_default_and_numbers_come_from_text() -> None:
    assert load_settings(None).sending.processes == "auto"
    assert load_settings(None, sending={"processes": "AUTO"}).sending.processes == "auto"
    assert load_settings(None, sending={"processes": "3"}).sending.processes == 3
    fixed = with_processes(load_settings(None), 2)
    assert fixed.sending.processes == 2 and fixed.smtp == load_settings(None).smtp


@pytest.mark.parametrize("bad", ["lots", "0", -2, "1.5", True])
def test_a_bad_value_is_one_line_naming_the_key(bad: object) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, sending={"processes": bad})
    text = str(caught.value)
    assert len(text.splitlines()) == 1
    assert "sending.processes" in text and '"auto" or a whole number' in text
