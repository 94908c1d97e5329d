"""Alert payloads have the shape of the vendors' real webhooks (recorded examples in shared data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.simulation import generate_bundle
from bot.simulation.validate import detect_vendor

REAL = {
    "alertmanager": "alertmanager/zulip_alert_firing_2alerts.json",
    "grafana": "grafana/zulip_alert_values_v11.json",
    "pagerduty": "pagerduty-v3/zulip_incident.triggered.json",
    "opsgenie": "opsgenie/zulip_create.json",
    "datadog": "datadog/relay_default_payload_service_check_triggered.json",
}


def _keys(obj: object, prefix: str = "") -> set[str]:
    if not isinstance(obj, dict):
        return set()
    out = set()
    for key, value in obj.items():
        out.add(prefix + key)
        if key in ("event", "data", "alert", "service", "org"):
            out |= _keys(value, prefix + key + ".")
    return out


@pytest.mark.data
@pytest.mark.parametrize("vendor", sorted(REAL))
def test_payload_has_every_field_of_the_real_one(vendor: str, shared_data: Path, tmp_path: Path) -> None:
    real = json.loads((shared_data / "alert-payloads" / REAL[vendor]).read_text())
    bundle = generate_bundle(tmp_path / vendor, kind="oom_kill", seed=2, vendor=vendor, history=False)
    ours = json.loads((bundle / "alert.json").read_text())
    optional = {"alertFlowContext", "alert.userId", "alert.recipients", "alert.teams"}  # per-account extras
    missing = _keys(real) - _keys(ours) - optional
    assert not missing, f"{vendor} payload lacks {sorted(missing)}"
    assert detect_vendor(ours) == detect_vendor(real) == vendor
    if vendor in ("alertmanager", "grafana"):
        item_keys = set(real["alerts"][0])
        assert item_keys <= set(ours["alerts"][0]) | {"imageURL"}
        assert ours["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"


def test_the_alert_names_the_service_it_fires_on(tmp_path: Path) -> None:
    for vendor in ("alertmanager", "grafana", "pagerduty", "opsgenie", "datadog"):
        bundle = generate_bundle(tmp_path / vendor, kind="traffic_spike", seed=4, vendor=vendor, history=False)
        truth = json.loads((bundle / "truth.json").read_text())
        text = (bundle / "alert.json").read_text()
        assert truth["alert_service"] in text
