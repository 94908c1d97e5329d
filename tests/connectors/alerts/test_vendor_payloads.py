"""Every vendor parser on the real payloads in ../shared/data/alert-payloads (see its SOURCE.md)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from bot.domain import AlertStatus, PayloadError, Severity
from connectors.alerts import detect_source, parse_alerts
from connectors.alerts.common import RAW_EXTERNAL_REFS, RAW_LINKS, RAW_NOTE, RAW_UPDATE_ONLY, TIME_NOTE

pytestmark = pytest.mark.data


def load(shared_data: Path, name: str) -> Any:
    return json.loads((shared_data / "alert-payloads" / name).read_text(encoding="utf-8"))


def test_every_real_payload_is_sniffed_to_its_vendor(shared_data: Path) -> None:
    folders = {"alertmanager": "alertmanager", "grafana": "grafana", "pagerduty-v3": "pagerduty",
               "opsgenie": "opsgenie", "datadog": "datadog"}
    seen = 0
    for folder, vendor in folders.items():
        for path in sorted((shared_data / "alert-payloads" / folder).glob("*.json")):
            if path.name in {"docs_event_data_types.json", "relay_event_schema.json"}:
                continue
            assert detect_source(json.loads(path.read_text())) == vendor, path.name
            seen += 1
    assert seen >= 17


def test_alertmanager_firing_group_keeps_each_alert_identity(shared_data: Path) -> None:
    alerts = parse_alerts(load(shared_data, "alertmanager/zulip_alert_firing_2alerts.json"), source="alertmanager")
    assert [a.fingerprint for a in alerts] == ["am:a1bc48475b20e73d", "am:c2ea85182f28cbd9"]
    assert all(a.status == AlertStatus.FIRING and a.severity == Severity.CRITICAL for a in alerts)
    assert alerts[0].service == "andromeda"  # from the host label
    assert alerts[0].description == "CPU core temperature is 34.75C"
    assert alerts[0].starts_at.isoformat().startswith("2020-02-06T00:17:58.432911")
    assert alerts[0].ends_at is None  # the zero time means "not ended"
    assert alerts[0].generator_url and alerts[0].generator_url.startswith("http://cobalt:9090/graph")


def test_alertmanager_resolve_has_the_same_fingerprint_as_its_firing(shared_data: Path) -> None:
    firing = parse_alerts(load(shared_data, "alertmanager/zulip_alert_firing_2alerts.json"))
    resolved = parse_alerts(load(shared_data, "alertmanager/zulip_single_alert_resolved.json"))
    assert resolved[0].status == AlertStatus.RESOLVED
    assert resolved[0].fingerprint == firing[0].fingerprint


def test_grafana_unified_alert_links_and_values(shared_data: Path) -> None:
    (alert,) = parse_alerts(load(shared_data, "grafana/zulip_alert_values_v11.json"), source="grafana")
    assert alert.fingerprint == "grafana:e6349a25f5ef0e9e"
    assert alert.name == "Memory (copy)" and alert.summary == "High memory usage"
    links = alert.raw[RAW_LINKS]
    assert links["panel"].endswith("viewPanel=2") and links["dashboard"].startswith("https://play.grafana.org/d/")
    assert alert.raw["values"]["A"] == 2473545728
    assert "node_exporter:9100" in alert.annotations["value"]


def test_grafana_docs_example_two_alerts_with_offsets(shared_data: Path) -> None:
    alerts = parse_alerts(load(shared_data, "grafana/docs_webhook_notifier_example.json"), source="grafana")
    assert [a.name for a in alerts] == ["High memory usage", "High CPU usage"]
    assert alerts[0].labels["team"] == "blue" and alerts[1].labels["zone"] == "eu-1"
    assert alerts[0].starts_at.utcoffset() is not None
    assert alerts[0].starts_at.astimezone().timestamp() == pytest.approx(1634025063.157076)
    assert alerts[0].raw[RAW_LINKS]["runbook"] == "https://myrunbook.com/runbook/1234"


def test_grafana_resolved(shared_data: Path) -> None:
    (alert,) = parse_alerts(load(shared_data, "grafana/zulip_alert_9_resolved.json"))
    assert alert.status == AlertStatus.RESOLVED and alert.source == "grafana"
    assert alert.ends_at is not None and alert.ends_at > alert.starts_at


def test_pagerduty_lifecycle_events(shared_data: Path) -> None:
    (trig,) = parse_alerts(load(shared_data, "pagerduty-v3/zulip_incident.triggered.json"), source="pagerduty")
    assert (trig.fingerprint, trig.status, trig.service) == ("pd:PFQZPSY", AlertStatus.FIRING, "pig208")
    assert trig.severity == Severity.HIGH  # urgency high, no priority
    assert trig.raw[RAW_EXTERNAL_REFS] == {"pagerduty": "PFQZPSY"}
    assert RAW_UPDATE_ONLY not in trig.raw
    (ack,) = parse_alerts(load(shared_data, "pagerduty-v3/zulip_incident.acknowledged.json"))
    assert ack.status == AlertStatus.ACKNOWLEDGED and ack.fingerprint == "pd:PQ1K5C8"
    (res,) = parse_alerts(load(shared_data, "pagerduty-v3/zulip_incident.resolved.json"))
    assert res.status == AlertStatus.RESOLVED and res.ends_at is not None


def test_pagerduty_note_and_escalation_update_only(shared_data: Path) -> None:
    (note,) = parse_alerts(load(shared_data, "pagerduty-v3/zulip_incident.annotated.json"))
    assert note.fingerprint == "pd:Q3B15VLMF3ASBD" and note.raw[RAW_UPDATE_ONLY] is True
    assert note.raw[RAW_NOTE].startswith("Running KILL")
    (esc,) = parse_alerts(load(shared_data, "pagerduty-v3/zulip_incident.escalated.json"))
    assert esc.fingerprint == note.fingerprint  # the same PagerDuty incident
    assert esc.severity == Severity.CRITICAL  # priority P1
    assert esc.raw[RAW_UPDATE_ONLY] is True


def test_pagerduty_service_event_holds_no_alert_and_is_not_an_error(shared_data: Path) -> None:
    assert parse_alerts(load(shared_data, "pagerduty-v3/docs_service.updated.json"), source="pagerduty") == []


def test_pagerduty_every_documented_incident_data_type_parses(shared_data: Path) -> None:
    examples = load(shared_data, "pagerduty-v3/docs_event_data_types.json")
    incident_event = {"event": {"id": "x", "event_type": "incident.priority_updated", "resource_type": "incident",
                                "occurred_at": "2020-10-02T18:45:22.169Z", "data": examples["incident"]}}
    (alert,) = parse_alerts(incident_event, source="pagerduty")
    assert alert.severity == Severity.CRITICAL and alert.labels["team"] == "Engineering"
    note_event = {"event": {"id": "y", "event_type": "incident.annotated", "resource_type": "incident",
                            "occurred_at": "2020-10-02T18:45:22.169Z", "data": examples["incident_note"]}}
    (note,) = parse_alerts(note_event, source="pagerduty")
    assert note.fingerprint == alert.fingerprint == "pd:PGR0VU2"


def test_opsgenie_actions(shared_data: Path) -> None:
    (create,) = parse_alerts(load(shared_data, "opsgenie/zulip_create.json"), source="opsgenie")
    assert create.status == AlertStatus.FIRING and create.service == "Server"
    assert create.labels["vip"] == "1" and create.starts_at.year == 2017
    assert create.raw[RAW_EXTERNAL_REFS] == {"opsgenie": "ec03dad6-62c8-4c94-b38b-d88f398e900f"}
    statuses = {}
    for action in ("acknowledge", "addnote", "close", "escalate"):
        (a,) = parse_alerts(load(shared_data, f"opsgenie/zulip_{action}.json"))
        statuses[action] = (a.status, bool(a.raw.get(RAW_UPDATE_ONLY)))
    assert statuses == {"acknowledge": (AlertStatus.ACKNOWLEDGED, False), "addnote": (AlertStatus.FIRING, True),
                        "close": (AlertStatus.RESOLVED, False), "escalate": (AlertStatus.FIRING, True)}
    (ack,) = parse_alerts(load(shared_data, "opsgenie/zulip_acknowledge.json"))
    (close,) = parse_alerts(load(shared_data, "opsgenie/zulip_close.json"))
    assert ack.fingerprint == close.fingerprint
    assert close.ends_at is not None and close.ends_at.year == 2015  # nanosecond updatedAt read right


def test_datadog_default_payload(shared_data: Path) -> None:
    (alert,) = parse_alerts(load(shared_data, "datadog/relay_default_payload_service_check_triggered.json"))
    assert alert.source == "datadog" and alert.status == AlertStatus.FIRING
    assert alert.name == "Host Cluster Alert"  # transition and [TEST] stripped
    assert alert.fingerprint == "dd:18692904:"  # the monitor, not the event id
    assert alert.starts_at.year == 2020
    # the body's "last triggered at Wed Jun 03 2020 20:43:04 UTC"; `date` (epoch ms as a string) is a second later
    assert alert.starts_at.isoformat() == "2020-06-03T20:43:04+00:00"


def test_every_real_payload_has_its_own_start_time_and_no_time_note(shared_data: Path) -> None:
    expected = {"alertmanager/zulip_alert_firing_2alerts.json": "2020-02-06T00:17:58",
                "grafana/zulip_alert_values_v11.json": "2024-03-01T02:09:00",
                "pagerduty-v3/zulip_incident.triggered.json": "2021-06-04T13:35:29",
                "opsgenie/zulip_create.json": "2017-08-14T11:25:56",
                "datadog/relay_default_payload_service_check_triggered.json": "2020-06-03T20:43:04"}
    for name, start in expected.items():
        alert = parse_alerts(load(shared_data, name))[0]
        assert alert.starts_at.astimezone(UTC).isoformat().startswith(start), name
        assert TIME_NOTE not in alert.annotations, name


WRONG_VALUES: list[Any] = [None, 1e300, float("nan"), -1, True, "", [], {}, [1, "a"], {"a": {"b": 1}}, 10**30]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def test_any_field_of_a_real_payload_with_a_wrong_value_gives_alerts_or_a_payload_error(shared_data: Path) -> None:
    """Each field of each recorded payload replaced by each wrong value: the parser answers with alerts or a
    ``PayloadError`` (a 400 at intake), never another exception."""
    tried = 0
    for path in sorted((shared_data / "alert-payloads").glob("*/*.json")):
        if path.name in {"docs_event_data_types.json", "relay_event_schema.json"}:
            continue
        base = json.loads(path.read_text())
        source = detect_source(base)
        for where in _paths(base):
            for value in WRONG_VALUES:
                payload = copy.deepcopy(base)
                target = payload
                for key in where[:-1]:
                    target = target[key]
                target[where[-1]] = value
                tried += 1
                try:
                    parse_alerts(payload, source=source)
                except PayloadError:
                    pass
    assert tried > 3000
