from __future__ import annotations

from pathlib import Path

import pytest

from papercore.config import load_settings
from papercore.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("DIGEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_use_sqlite_under_the_data_dir() -> None:
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "data/digest.sqlite3"
    )
    assert settings.smtp.port == 8025


def test_file_is_overridden_by_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    path.write_text('[smtp]\nhost = "mail.example.org"\nport = 587\n[ranking]\npicks = 5\n')
    monkeypatch.setenv("DIGEST_SMTP__PORT", "2525")
    settings = load_settings(path)
    assert settings.smtp.host == "mail.example.org"  # from the file
    assert settings.smtp.port == 2525  # env beats file
    assert settings.ranking.picks == 5


def test_file_choice_explicit_then_env_then_local(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "config.toml").write_text("[ranking]\npicks = 3\n")
    assert load_settings().ranking.picks == 3
    other = tmp_path / "other.toml"
    other.write_text("[ranking]\npicks = 4\n")
    monkeypatch.setenv("DIGEST_CONFIG", str(other))
    assert load_settings().ranking.picks == 4
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[ranking]\npicks = 6\n")
    assert load_settings(explicit).ranking.picks == 6


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SMTP__PASSWORD", "hunter2-secret")
    settings = load_settings()
    assert settings.smtp.password.get_secret_value() == "hunter2-secret"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.smtp)


def test_every_problem_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[smtp]\nport = 70000\nbogus = 1\n[ranking]\nsemantic = "maybe"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    problems = caught.value.problems
    assert len(problems) == 3
    assert all(p.startswith(f"{path}: ") for p in problems)
    assert any("smtp.port" in p and "65535" in p for p in problems)
    assert any("smtp.bogus: unknown key" in p for p in problems)
    assert any("ranking.semantic" in p for p in problems)


def test_environment_problem_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_SMTP__PORT", "not-a-port")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.problems[0].startswith("environment DIGEST_SMTP__PORT: smtp.port:")


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[smtp\nport=1")
    with pytest.raises(ConfigError, match=r"broken\.toml: invalid TOML"):
        load_settings(broken)
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    example = Path(__file__).parents[3] / "config.example.toml"
    settings = load_settings(example)
    text = example.read_text()
    for section_name, section in settings:
        for key in type(section).model_fields:
            assert f"\n{key} = " in text, f"config.example.toml lacks {section_name}.{key}"
