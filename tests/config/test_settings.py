"""Settings: defaults < user YAML < environment; clear errors naming the key; secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.domain import ConfigError
from config.settings import load_settings


def test_defaults_come_from_the_shipped_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHERLOG_CONFIG", raising=False)
    s = load_settings()
    assert s.retrieval.backend == "embedded"
    assert s.database_url.startswith("sqlite:///")
    assert s.intake.max_body_bytes == 1_048_576


def test_user_file_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text("storage:\n  url: postgresql+psycopg://u@db/x\nretrieval:\n  top_k: 9\n")
    monkeypatch.setenv("SHERLOG__RETRIEVAL__TOP_K", "3")
    s = load_settings(user)
    assert s.storage.url == "postgresql+psycopg://u@db/x"
    assert s.retrieval.top_k == 3  # env wins over the file
    assert s.retrieval.model == "all-MiniLM-L6-v2"  # untouched defaults survive the merge


def test_wrong_value_names_the_key_and_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHERLOG__SMTP__PORT", "seventy")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "smtp.port" in str(err.value)
    assert "SHERLOG__SMTP__PORT" in str(err.value)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("slack:\n  chanel: '#typo'\n")
    with pytest.raises(ConfigError, match="slack.chanel"):
        load_settings(bad)


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("storage: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)


def test_config_check_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.main import app

    monkeypatch.setenv("SHERLOG__SLACK__BOT_TOKEN", "xoxb-very-secret-token")
    monkeypatch.setenv("SHERLOG__LLM__API_KEY", "sk-also-secret")
    result = CliRunner().invoke(app, ["config", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert "xoxb-very-secret-token" not in result.output
    assert "sk-also-secret" not in result.output
    data = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert data["slack"]["bot_token"] == "**********"


def test_config_check_reports_errors_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.main import app

    monkeypatch.setenv("SHERLOG__RETRIEVAL__BACKEND", "cassandra")
    result = CliRunner().invoke(app, ["config", "check"])
    assert result.exit_code == 2
    assert "retrieval.backend" in result.output
    assert "Traceback" not in result.output
