"""The foundation commands through the real ``digest`` console script."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
from pathlib import Path

from tests.conftest import DIGEST, FIXTURES, SAMPLE_PAGES, Cli


def pages() -> list[str]:
    return [str(p) for p in SAMPLE_PAGES]


def test_ingest_reports_288_then_0_new(cli: Cli) -> None:
    first = cli("ingest", *pages())
    total = next(line for line in first.stdout.splitlines() if "total" in line)
    assert [cell.strip() for cell in total.split("│")[1:6]] == ["total", "338", "288", "7", "43"]
    again = cli("ingest", *pages())
    total = next(line for line in again.stdout.splitlines() if "total" in line)
    assert [cell.strip() for cell in total.split("│")[1:6]] == ["total", "338", "0", "0", "338"]


def test_papers_list_json(cli: Cli) -> None:
    cli("ingest", str(FIXTURES / "hf_daily.json"))
    listed = json.loads(cli("papers", "list", "--json").stdout)
    assert {p["id"] for p in listed} == {"2402.03142", "2510.01234", "2510.05555"}
    pres = next(p for p in listed if p["id"] == "2402.03142")
    assert pres["upvotes"] == 42 and pres["link"] == "https://huggingface.co/papers/2402.03142"
    assert json.loads(cli("papers", "list", "--json", "--since", "2099-01-01").stdout) == []


def test_malformed_input_is_one_line_nonzero_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text("A Title\n\n" + "word " * 200 + "\n\nTruncated Title\n")
    result = cli("ingest", *pages(), str(broken), check=False)
    assert result.returncode == 3
    assert (
        result.stderr.strip()
        == f"error: {broken}:5: title 'Truncated Title' has no abstract (truncated page?)"
    )
    assert "Traceback" not in result.stderr
    assert json.loads(cli("papers", "list", "--json").stdout) == []


def test_bad_format_option_is_a_usage_error(cli: Cli) -> None:
    result = cli("ingest", "--format", "pdf", pages()[0], check=False)
    assert result.returncode == 2 and "--format" in result.stderr


def test_subscribe_list_export_remove(cli: Cli) -> None:
    cli(
        "subscribe",
        "Ada@Example.org",
        "--topic",
        "graph neural networks",
        "--topic",
        "wireless networks",
        "--timezone",
        "Europe/Paris",
        "--hour",
        "7",
        "--confirmed",
    )
    cli("subscribe", "grace@example.org")
    listed = json.loads(cli("subscribers", "list", "--json").stdout)
    assert [(s["email"], s["status"]) for s in listed] == [
        ("ada@example.org", "active"),
        ("grace@example.org", "pending"),
    ]
    assert listed[0]["topics"] == ["graph neural networks", "wireless networks"]
    exported = cli("subscribers", "export").stdout.splitlines()
    assert exported[0] == "email,topics,name,frequency,timezone,hour,status"
    assert (
        exported[1]
        == "ada@example.org,graph neural networks;wireless networks,,daily,Europe/Paris,7,active"
    )
    one = json.loads(cli("subscribers", "export", "ada@example.org").stdout)
    assert one["events"][0]["kind"] == "subscribe"
    cli("subscribers", "remove", "ada@example.org")
    active = json.loads(cli("subscribers", "list", "--status", "active", "--json").stdout)
    assert active == []
    duplicate = cli("subscribe", "grace@example.org", check=False)
    assert (
        duplicate.returncode == 3
        and duplicate.stderr.strip() == "error: grace@example.org is already subscribed"
    )
    bad = cli("subscribe", "not-an-address", check=False)
    assert bad.returncode == 3 and bad.stderr.count("\n") == 1


def test_import_csv(cli: Cli, tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,topics\nada@example.org,robotics;vision\nbob@example.org,nlp\n")
    result = cli("subscribers", "import", str(csv_file), "--consent", "Asked at the lab meeting")
    assert "2" in result.stdout.splitlines()[-2]
    missing = cli("subscribers", "import", str(csv_file), check=False)
    assert missing.returncode == 2 and "--consent" in missing.stderr


def test_invalid_config_exits_2_with_one_line_per_problem(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[smtp]\nport = 0\n[nonsense]\nx = 1\n")
    result = cli("--config", str(config), "papers", "list", check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: {config}: smtp.port: Input should be greater than or equal to 1",
        f"error: {config}: nonsense: unknown key",
    ]


def test_env_overrides_config_file(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[database]\nurl = "sqlite:////nonexistent/dir/x.sqlite3"\n')
    # the environment's DIGEST_DATABASE__URL (the test database) wins over the file
    assert cli("--config", str(config), "papers", "list", "--json").stdout.strip() == "[]"


def test_database_not_initialised_is_a_clear_message(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = cli("papers", "list", check=False, env={"DIGEST_DATABASE__URL": url})
    assert result.returncode == 5
    assert result.stderr.strip() == "error: the database is not initialised: run `digest init`"
    assert "created at revision" in cli("init", env={"DIGEST_DATABASE__URL": url}).stdout
    assert "up to date" in cli("init", env={"DIGEST_DATABASE__URL": url}).stdout


def test_every_command_has_help_with_an_example(cli: Cli) -> None:
    for command in (
        ["init"],
        ["ingest"],
        ["papers", "list"],
        ["subscribe"],
        ["subscribers", "list"],
        ["subscribers", "import"],
        ["subscribers", "export"],
        ["subscribers", "remove"],
    ):
        result = cli(*command, "--help")
        assert "Example" in result.stdout, command


def test_database_behind_its_migrations_is_a_clear_message(cli: Cli, database_url: str) -> None:
    from sqlalchemy import text

    from papercore.db.engine import make_engine

    engine = make_engine(database_url)
    with engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    try:
        result = cli("papers", "list", check=False)
    finally:  # the PostgreSQL database is shared by the whole session
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        engine.dispose()
    assert result.returncode == 5
    assert result.stderr.strip() == (
        f"error: the database is at revision 0000, behind {head}: run `digest init` to migrate"
    )


def test_smtp_sink_keeps_mail_and_stops_cleanly_on_sigterm(cli: Cli, tmp_path: Path) -> None:
    sink = subprocess.Popen(
        [DIGEST, "smtp-sink", "--port", "0", "--maildir", str(tmp_path / "mail")],
        cwd=cli.workdir,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        first = sink.stdout.readline()
        port = int(first.split("127.0.0.1:")[1].split(",")[0])
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("a@example.org", ["b@example.org"], b"Subject: hi\r\n\r\nhello\r\n")
        sink.send_signal(signal.SIGTERM)  # at once after the message, as a service manager does
        out, _ = sink.communicate(timeout=15)
    finally:
        if sink.poll() is None:
            sink.kill()
    assert sink.returncode == 0
    assert "a@example.org → b@example.org" in out and out.rstrip().endswith("smtp-sink stopped")
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1
