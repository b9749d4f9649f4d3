"""``digest demo`` in an empty directory with no configuration: the embedded default end to end."""

from __future__ import annotations

import mailbox
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DIGEST

pytestmark = pytest.mark.slow


def run_demo(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")} | {"COLUMNS": "200"}
    result = subprocess.run(
        [DIGEST, "demo"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_demo_sends_everyone_a_digest_and_is_safe_to_repeat(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert "5 sample subscribers added" in first.stdout
    assert "5 sent now; issue status: done" in first.stdout
    for name in ("ada", "grace", "alan", "emmy", "kurt"):
        assert f"{name}@example.org" in first.stdout
    preview = Path(first.stdout.split("preview: ")[1].split()[0])
    assert preview.is_file() and preview.is_relative_to(tmp_path / "data")
    assert "<html" in preview.read_text(encoding="utf-8").lower()
    assert (tmp_path / "data" / "digest.sqlite3").is_file()
    assert len(mailbox.Maildir(tmp_path / "data" / "maildir", create=False)) == 5

    again = run_demo(tmp_path)
    assert "0 sample subscribers added" in again.stdout
    assert "0 sent now; issue status: done" in again.stdout
    assert len(mailbox.Maildir(tmp_path / "data" / "maildir", create=False)) == 5
