"""Commands that mail real people refuse unsafe or example settings, one line per problem,
unless --dev says this is a developer's own machine (the demo and the sink need nothing)."""

from __future__ import annotations

import pytest

from tests.conftest import Cli

COMMANDS = {
    "send": ["send"],
    "run": ["run", "--once"],
    "worker": ["worker", "--until-empty"],
    "serve": ["serve", "--port", "0"],
}
REAL = {
    "DIGEST_APP__BASE_URL": "https://digest.paperlab.net",
    "DIGEST_SENDER__FROM_ADDRESS": "digest@paperlab.net",
    "DIGEST_SENDER__UNSUBSCRIBE_MAILTO": "",
}
PROBLEMS = {
    "example secret": (
        {"DIGEST_WEB__SECRET_KEY": "change-me-to-a-long-random-string"},
        "web.secret_key is the example value",
    ),
    "http base_url": (
        {"DIGEST_APP__BASE_URL": "http://digest.paperlab.net"},
        "app.base_url http://digest.paperlab.net is not https",
    ),
    "loopback base_url": (
        {"DIGEST_APP__BASE_URL": "https://127.0.0.1:8443"},
        "app.base_url https://127.0.0.1:8443 is a loopback address",
    ),
    "example sender": (
        {"DIGEST_SENDER__FROM_ADDRESS": "digest@example.org"},
        "sender.from_address digest@example.org is an example domain",
    ),
    "example unsubscribe mailbox": (
        {"DIGEST_SENDER__UNSUBSCRIBE_MAILTO": "unsubscribe@example.com"},
        "sender.unsubscribe_mailto unsubscribe@example.com is an example domain",
    ),
}


@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The real `digest` command on one SQLite file (the refusal comes before any use)."""
    root = tmp_path_factory.mktemp("safety")
    workdir = root / "work"
    workdir.mkdir()
    runner = Cli(workdir, f"sqlite:///{root / 'digest.sqlite3'}")
    runner("init")
    return runner


CASES = [("send", problem) for problem in PROBLEMS] + [
    (command, problem)
    for command in ("run", "worker", "serve")
    for problem in ("example secret", "loopback base_url", "example sender")
]


@pytest.mark.parametrize(("command", "problem"), CASES)
def test_each_unsafe_setting_is_refused_in_one_line(
    digest: Cli, command: str, problem: str
) -> None:
    env, line = PROBLEMS[problem]
    result = digest(*COMMANDS[command], env=REAL | env, check=False, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert any(line in x for x in errors), result.stderr
    assert errors[-1].startswith(f"error: digest {command}: refusing to send real mail")
    assert len(errors) == 2  # exactly this problem, then the hint
    assert "--dev" in errors[-1]


def test_the_defaults_name_every_problem_at_once(digest: Cli) -> None:
    env = {"DIGEST_WEB__SECRET_KEY": "change-me-to-a-long-random-string"}
    result = digest("send", env=env, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: web.secret_key is the example value: anyone could forge unsubscribe and "
        "preference links; set DIGEST_WEB__SECRET_KEY to a long random string",
        "error: app.base_url http://127.0.0.1:8000 is not https: links in mail must be https",
        "error: app.base_url http://127.0.0.1:8000 is a loopback address: readers cannot open "
        "its links",
        "error: sender.from_address digest@example.org is an example domain: use your own",
        "error: sender.unsubscribe_mailto unsubscribe@example.org is an example domain: use "
        "your own",
        "error: digest send: refusing to send real mail; fix the above or pass --dev (local "
        "testing)",
    ]


def test_dev_and_real_settings_start(digest: Cli) -> None:
    assert digest("send", "--dev").returncode == 0  # nobody to send to: nothing sent
    assert digest("send", env=REAL).returncode == 0
