"""`digest serve` and the data-rights commands through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from subscribers import store
from tests.conftest import DIGEST, Cli


def test_forget_erases_everything_and_keeps_only_a_hash(cli: Cli, database_url: str) -> None:
    cli("subscribe", "ada@example.org", "--topic", "graph neural networks", "--confirmed")
    held = json.loads(cli("subscribers", "export", "ada@example.org").stdout)
    assert held["email"] == "ada@example.org" and held["events"]
    result = cli("subscribers", "forget", "Ada@Example.org", "--yes")
    assert "erased ada@example.org" in result.stdout
    assert cli("subscribers", "export", "ada@example.org", check=False).returncode == 6
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert store.find(connection, "ada@example.org") is None
        assert store.is_suppressed(connection, "ada@example.org")
        rows = connection.exec_driver_sql("SELECT email_hash, reason FROM suppressions").all()
        events = connection.exec_driver_sql("SELECT count(*) FROM subscriber_events").scalar()
    engine.dispose()
    assert [r.reason for r in rows] == ["forget"] and "ada" not in rows[0].email_hash
    assert events == 0
    again = cli("subscribe", "ada@example.org", check=False)
    assert again.returncode == 3 and "suppression list" in again.stderr


def test_csv_import_never_imports_suppressed_addresses(cli: Cli, tmp_path: Path) -> None:
    cli("subscribe", "gone@example.org", "--confirmed")
    cli("subscribers", "forget", "gone@example.org", "--yes")
    sheet = tmp_path / "people.csv"
    sheet.write_text("email,topics\nGONE@example.org,a\nnew@example.org,b\n", encoding="utf-8")
    result = cli("subscribers", "import", str(sheet), "--consent", "Signed up at the booth")
    listed = json.loads(cli("subscribers", "list", "--json").stdout)
    assert [p["email"] for p in listed] == ["new@example.org"]
    assert "1" in result.stdout


def test_serve_refuses_the_example_secret(cli: Cli) -> None:
    env = {"DIGEST_WEB__SECRET_KEY": "change-me-to-a-long-random-string"}
    result = cli("serve", "--port", "0", env=env, check=False, timeout=60)
    assert result.returncode == 2 and "example value" in result.stderr


def test_remove_keeps_the_previous_status_like_the_web_unsubscribe(cli: Cli) -> None:
    cli("subscribe", "ada@example.org", "--topic", "graph neural networks", "--confirmed")
    cli("subscribe", "grace@example.org")
    assert "unsubscribed ada@example.org" in cli("subscribers", "remove", "Ada@Example.org").stdout
    cli("subscribers", "remove", "grace@example.org")
    again = cli("subscribers", "remove", "ada@example.org")
    assert "ada@example.org was already unsubscribed" in again.stdout
    for address, before in (("ada@example.org", "active"), ("grace@example.org", "pending")):
        held = json.loads(cli("subscribers", "export", address).stdout)
        assert held["status"] == "unsubscribed"
        leaving = [e for e in held["events"] if e["kind"] == "unsubscribe"]
        assert [e["detail"] for e in leaving] == [{"via": "cli", "previous_status": before}]
    listed = json.loads(cli("subscribers", "list", "--status", "active", "--json").stdout)
    assert listed == []


def test_serve_answers_on_the_port_it_reports_without_a_server_header(cli: Cli) -> None:
    import subprocess

    import httpx

    process = subprocess.Popen(
        [DIGEST, "serve", "--dev", "--host", "127.0.0.1", "--port", "0"],
        cwd=cli.workdir,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "on http://127.0.0.1:" in line, process.stderr.read() if process.stderr else ""
        port = int(line.rsplit(":", 1)[1])
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert response.status_code == 200 and "Subscribe" in response.text
        assert "server" not in response.headers
    finally:
        process.terminate()  # uvicorn finishes the requests in flight, then re-raises SIGTERM
        process.wait(timeout=30)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
