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


URL_SETTINGS = {
    "SHERLOG__STORAGE__URL": ("postgresql+psycopg://app:p@ssw0rd@db.internal:5432/sherlog", "p@ssw0rd"),
    "SHERLOG__LLM__BASE_URL": ("https://svc:llm-pass-123@llm.internal/v1?api_key=k-456&model=x", "llm-pass-123"),
    "SHERLOG__PROMETHEUS__URL": ("https://prom:prom-secret@prom.internal:9090", "prom-secret"),
    "SHERLOG__INFLUXDB__URL": ("http://influx.internal:8086/?token=influx-tok-789", "influx-tok-789"),
    "SHERLOG__LOGS__LOKI_URL": ("https://loki:loki-pw-1@loki.internal", "loki-pw-1"),
    "SHERLOG__LOGS__ELASTICSEARCH_URL": ("https://elastic:es-pw-2@es.internal:9200", "es-pw-2"),
}


@pytest.mark.parametrize("as_json", [True, False])
def test_config_check_masks_credentials_inside_url_settings(monkeypatch: pytest.MonkeyPatch, as_json: bool) -> None:
    from bot.cli.main import app

    for env, (url, _secret) in URL_SETTINGS.items():
        monkeypatch.setenv(env, url)
    result = CliRunner().invoke(app, ["config", "check", *(["--json"] if as_json else [])])
    assert result.exit_code == 0, result.output
    for _env, (_url, secret) in URL_SETTINGS.items():
        assert secret not in result.output, secret
    assert "k-456" not in result.output
    for host in ("db.internal:5432", "llm.internal", "prom.internal:9090", "influx.internal:8086", "loki.internal",
                 "es.internal:9200", "model=x"):
        assert host in result.output, host  # the rest of each URL stays readable


@pytest.mark.parametrize("url, masked", [
    ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
    ("postgres://app:p@ssw0rd@db/x", "postgres://app:***@db/x"),
    ("https://token-only@api.example/x", "https://***@api.example/x"),
    ("https://h.example/a?access_token=abc&page=2", "https://h.example/a?access_token=***&page=2"),
    ("https://h.example/a?X-Amz-Signature=abc&X-Amz-Credential=AKIA", "https://h.example/a?X-Amz-Signature=***&X-Amz-Credential=***"),
    ("https://h.example/plain?page=2", "https://h.example/plain?page=2"),
    ("not a url: p@ss", "not a url: p@ss"),
])
def test_mask_url(url: str, masked: str) -> None:
    from config.masking import mask_url

    assert mask_url(url) == masked
