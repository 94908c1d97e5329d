"""The connector registry: built-ins through the ``sherlog.connectors`` entry points, and a third-party
connector installed with pip (a real distribution built from a temp folder and installed into a temp
``--target``) whose alert source the webhook route then accepts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.app import create_app
from config.settings import Settings, load_settings
from connectors.alerts import alert_sources, detect_source, parse_alerts
from connectors.plugins import Capability, Connector
from connectors.registry import BUILTIN, GROUP, ConnectorRegistry, default_registry

ROOT = Path(__file__).resolve().parents[2]

PLUGIN_MODULE = '''
"""A third-party connector: Acme Monitor webhooks."""
from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.plugins import Connector, SettingsSection


class AcmeSettings(SettingsSection):
    team: str = "unowned"


class AcmeAlerts:
    SOURCE = "acme"

    def looks_like(self, payload: dict[str, Any]) -> bool:
        return "acme_check" in payload

    def parse(self, payload: Any) -> list[Alert]:
        if not isinstance(payload, dict) or not isinstance(payload.get("acme_check"), str):
            raise PayloadError("acme payload: acme_check must be a string")
        state = AlertStatus.RESOLVED if payload.get("state") == "ok" else AlertStatus.FIRING
        return [Alert(source="acme", name=payload["acme_check"], service=payload.get("host"), status=state,
                      severity=Severity.parse(payload.get("level")), fingerprint=f"acme:{payload['acme_check']}",
                      labels={"host": str(payload.get("host"))})]


plugin = Connector(name="acme", description="Acme Monitor", settings_model=AcmeSettings, alert_source=AcmeAlerts())
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "sherlog-acme"
version = "0.1.0"

[project.entry-points."sherlog.connectors"]
acme = "sherlog_acme:plugin"

[tool.setuptools]
py-modules = ["sherlog_acme"]
'''


@pytest.fixture(scope="module")
def acme_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --target`` of a one-module distribution declaring a ``sherlog.connectors`` entry point."""
    source = tmp_path_factory.mktemp("sherlog-acme")
    (source / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (source / "sherlog_acme.py").write_text(PLUGIN_MODULE)
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--no-build-isolation", "--target", str(site), str(source)], check=True, capture_output=True,
                   timeout=300)
    assert (site / "sherlog_acme.py").exists()
    return site


@pytest.fixture
def with_acme(acme_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(acme_site))
    default_registry.cache_clear()
    yield
    default_registry.cache_clear()
    sys.modules.pop("sherlog_acme", None)


def test_builtins_cover_every_capability_and_match_pyproject() -> None:
    registry = ConnectorRegistry.from_entry_points([])  # no metadata: the built-ins from their known places
    assert [c.name for c in registry] == list(BUILTIN)
    text = (ROOT / "pyproject.toml").read_text()
    declared = text.split(f'[project.entry-points."{GROUP}"]')[1].split("\n[")[0]
    pairs = dict(line.replace('"', "").split(" = ") for line in declared.strip().splitlines())
    assert pairs == BUILTIN
    assert {name for c in registry for name in [c.name] if Capability.ALERTS in c.capabilities} == {
        "alertmanager", "grafana", "pagerduty", "opsgenie", "datadog", "generic"}
    assert [c.name for c in registry.with_capability(Capability.METRICS)] == ["prometheus", "influxdb"]
    assert [c.name for c in registry.with_capability(Capability.LOGS)] == [
        "files", "loki", "elasticsearch", "splunk", "kubernetes"]
    assert [c.name for c in registry.with_capability(Capability.CHAT)] == ["slack", "teams", "email"]
    assert [c.name for c in registry.with_capability(Capability.WEBHOOK_VERIFIER)] == ["pagerduty"]
    assert [c.name for c in registry.with_capability(Capability.WRITEBACK)] == ["pagerduty", "opsgenie"]
    assert [c.name for c in registry.with_capability(Capability.EVIDENCE)] == ["kubernetes"]


def test_builtin_settings_sections_are_the_connectors_models() -> None:
    registry = ConnectorRegistry.from_entry_points([])
    with_sections = [c for c in registry if c.settings_section]
    assert {c.name for c in with_sections} >= {"prometheus", "influxdb", "kubernetes", "pagerduty", "opsgenie",
                                              "slack", "teams", "email"}
    for c in with_sections:
        assert Settings.model_fields[c.settings_section].annotation is c.settings_model, c.name


def test_capabilities_are_built_only_when_configured(tmp_path: Path) -> None:
    registry = ConnectorRegistry.from_entry_points([])
    bare = load_settings(data_dir=tmp_path)
    assert registry.metric_sources(bare) == {} and not registry.logs_configured(bare)
    assert registry.evidence_sources(bare) == {} and registry.webhook_verifiers(bare) == {}
    assert registry.incident_tools(bare) == {}
    live = load_settings(data_dir=tmp_path, prometheus={"url": "http://127.0.0.1:1"},
                         logs={"log_dir": str(tmp_path), "loki_url": "http://127.0.0.1:2"},
                         pagerduty={"webhook_secret": "s", "enabled": True, "api_token": "t"},
                         opsgenie={"enabled": True, "api_key": "k"})
    assert list(registry.metric_sources(live)) == ["prometheus"]
    tools = registry.incident_tools(live)
    assert list(tools) == ["pagerduty", "opsgenie"] and [t.name for t in tools.values()] == ["pagerduty", "opsgenie"]
    assert registry.logs_configured(live)
    assert list(registry.webhook_verifiers(live)) == ["pagerduty"]


def test_a_broken_or_foreign_plugin_never_stops_the_builtins(caplog: pytest.LogCaptureFixture) -> None:
    eps = [EntryPoint(name="broken", value="no_such_module_here:plugin", group=GROUP),
           EntryPoint(name="foreign", value="connectors.registry:BUILTIN", group=GROUP)]
    registry = ConnectorRegistry.from_entry_points(eps)
    assert [c.name for c in registry] == list(BUILTIN)
    assert "failed to load" in caplog.text and "not a Connector" in caplog.text


@pytest.mark.timeout(600)  # the first user of the module's pip install (bounded at 300 s)
def test_pip_installed_connector_is_accepted_by_the_webhook_route(with_acme: None, tmp_path: Path) -> None:
    registry = default_registry()
    assert "acme" in registry and list(registry)[-1].name == "acme"  # third-party after the built-ins
    assert "acme" in alert_sources() and detect_source({"acme_check": "disk", "host": "db-1"}) == "acme"
    settings = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                             plugins={"acme": {"team": "storage"}})
    acme = registry.get("acme")
    assert acme is not None and acme.section(settings).model_dump() == {"team": "storage"}  # type: ignore[union-attr]
    with TestClient(create_app(settings)) as client:
        fired = client.post("/api/v1/alerts/acme", json={"acme_check": "disk full", "host": "db-1",
                                                         "level": "critical"})
        assert fired.status_code == 202, fired.text
        [incident_id] = fired.json()["created"]
        incident = client.get(f"/api/v1/incidents/{incident_id}").json()["incident"]
        assert incident["service"] == "db-1" and incident["alerts"][0]["source"] == "acme"
        resolved = client.post("/api/v1/alerts/acme", json={"acme_check": "disk full", "host": "db-1",
                                                            "state": "ok"})
        assert resolved.json()["resolved"] == [incident_id]
        bad = client.post("/api/v1/alerts/acme", json={"acme_check": 7})
        assert bad.status_code == 422 and "acme_check must be a string" in bad.json()["detail"]
        names = {s["name"] for s in client.get("/api/v1/intake/sources").json()["sources"]}
        assert {"acme", "alertmanager", "pagerduty"} <= names


@pytest.mark.timeout(600)  # the first user of the module's pip install (bounded at 300 s)
def test_third_party_settings_are_validated_at_start(with_acme: None, tmp_path: Path) -> None:
    from bot.domain import ConfigError

    wrong = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"},
                          plugins={"acme": {"team": "storage", "colour": "red"}})
    with pytest.raises(ConfigError, match=r"plugins\.acme: colour"):
        create_app(wrong)
    unknown = load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, plugins={"nagios": {}})
    with pytest.raises(ConfigError, match=r"plugins\.nagios: no installed connector.*acme"):
        default_registry().check_settings(unknown)


def test_without_the_plugin_its_source_is_unknown() -> None:
    assert "acme" not in alert_sources()
    with pytest.raises(Exception, match="unknown alert source 'acme'"):
        parse_alerts({"acme_check": "x"}, source="acme")


def _connector(**kwargs: Any) -> Connector:
    return Connector(name="x", **kwargs)


def test_capabilities_follow_the_filled_fields() -> None:
    assert _connector().capabilities == frozenset()
    assert _connector(metric_source=lambda s: None).capabilities == {Capability.METRICS}
