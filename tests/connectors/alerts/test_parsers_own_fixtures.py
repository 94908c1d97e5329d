"""Parsers on the project's own fixtures, written from the vendors' documented formats."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.domain import AlertStatus, PayloadError, Severity
from connectors.alerts import parse_alerts, register_mappings, unregister
from connectors.pagerduty.alerts import signature_for, verify_signature

AM_V4: dict[str, Any] = {
    "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 3, "status": "firing",
    "receiver": "sherlog", "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency", "env": "prod"}, "commonAnnotations": {},
    "externalURL": "http://am:9093",
    "alerts": [
        {"status": "firing", "labels": {"service": "checkout", "severity": "page", "pod": "checkout-1"},
         "annotations": {"summary": "p99 high", "runbook_url": "https://runbooks/latency"},
         "startsAt": "2026-01-01T10:00:00.123456789Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prom:9090/graph?g0.expr=x", "fingerprint": "0123456789abcdef"},
        {"status": "resolved", "labels": {"service": "checkout", "pod": "checkout-2"}, "annotations": {},
         "startsAt": "2026-01-01T09:50:00Z", "endsAt": "2026-01-01T10:01:00Z", "generatorURL": ""},
    ],
}


def test_alertmanager_group_truncated_and_common_labels() -> None:
    alerts = parse_alerts(AM_V4)
    assert [a.status for a in alerts] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert alerts[0].labels["env"] == "prod" and alerts[0].severity == Severity.CRITICAL
    assert alerts[0].raw["truncatedAlerts"] == 3
    assert alerts[1].fingerprint and not alerts[1].fingerprint.startswith("am:")  # computed from labels
    again = parse_alerts(copy.deepcopy(AM_V4))
    assert again[1].fingerprint == alerts[1].fingerprint


def test_alertmanager_rejects_unknown_version_and_status() -> None:
    bad = copy.deepcopy(AM_V4)
    bad["version"] = "3"
    with pytest.raises(PayloadError, match="version"):
        parse_alerts(bad, source="alertmanager")
    bad = copy.deepcopy(AM_V4)
    bad["alerts"][0]["status"] = "exploding"
    with pytest.raises(PayloadError, match="alerts\\[0\\].status"):
        parse_alerts(bad, source="alertmanager")


def test_computed_fingerprint_ignores_text_that_varies() -> None:
    one = copy.deepcopy(AM_V4)
    del one["alerts"][0]["fingerprint"]
    two = copy.deepcopy(one)
    two["alerts"][0]["annotations"]["summary"] = "p99 is 4.2s now"
    two["alerts"][0]["startsAt"] = "2026-01-01T10:05:00Z"
    assert parse_alerts(one)[0].fingerprint == parse_alerts(two)[0].fingerprint
    three = copy.deepcopy(one)
    three["alerts"][0]["labels"]["pod"] = "checkout-9"
    assert parse_alerts(three)[0].fingerprint != parse_alerts(one)[0].fingerprint


def test_grafana_legacy_notifier() -> None:
    payload = {"dashboardId": 1, "evalMatches": [{"value": 100, "metric": "High value", "tags": None}],
               "imageUrl": "https://grafana/img.png", "message": "Notification Message", "orgId": 1, "panelId": 2,
               "ruleId": 7, "ruleName": "Panel Title alert", "ruleUrl": "http://grafana/d/x?panelId=2",
               "state": "alerting", "tags": {"service": "api"}, "title": "[Alerting] Panel Title alert"}
    (alert,) = parse_alerts(payload)
    assert alert.source == "grafana" and alert.service == "api"
    assert alert.fingerprint == "grafana-rule:1:7"
    payload["state"] = "ok"
    (ok,) = parse_alerts(payload)
    assert ok.status == AlertStatus.RESOLVED and ok.fingerprint == alert.fingerprint


def test_datadog_custom_payload_transitions() -> None:
    payload = {"alert_id": "123", "alert_transition": "Triggered", "alert_title": "High error rate on checkout",
               "alert_priority": "P2", "alert_scope": "service:checkout,env:prod", "tags": "team:pay,env:prod",
               "link": "https://app.datadoghq.com/event/event?id=1", "date": "1700000000000", "id": "999"}
    (fired,) = parse_alerts(payload)
    assert fired.source == "datadog" and fired.service == "checkout" and fired.severity == Severity.HIGH
    assert fired.fingerprint == "dd:123:service:checkout,env:prod"
    payload.update(alert_transition="Recovered", id="1000")
    (rec,) = parse_alerts(payload)
    assert rec.status == AlertStatus.RESOLVED and rec.fingerprint == fired.fingerprint
    payload["alert_transition"] = "Exploded"
    with pytest.raises(PayloadError, match="transition"):
        parse_alerts(payload, source="datadog")


def test_pagerduty_signature() -> None:
    body = b'{"event": {}}'
    header = signature_for(body, "s3cret")
    assert verify_signature(body, header, "s3cret")
    assert verify_signature(body, "v1=deadbeef, " + header, "s3cret")  # rotation: several signatures
    assert not verify_signature(body + b" ", header, "s3cret")
    assert not verify_signature(body, header, "other")
    assert not verify_signature(body, None, "s3cret")


def test_yaml_mapping_parser() -> None:
    names = register_mappings({"zabbix_test": {
        "items": "events",
        "fields": {"name": "trigger.name", "service": ["host.app", "host.name"], "status": "value",
                   "severity": "trigger.severity", "fingerprint": "eventid", "starts_at": "clock"},
        "status_map": {"1": "firing", "0": "resolved"},
        "labels": {"team": "infra"},
    }})
    try:
        assert names == ["zabbix_test"]
        payload = {"events": [{"trigger": {"name": "Disk full", "severity": "High"}, "host": {"name": "db-1"},
                               "value": "1", "eventid": "e1", "clock": 1700000000},
                              {"trigger": {"name": "Disk full"}, "host": {"name": "db-1"}, "value": "0",
                               "eventid": "e1"}]}
        fired, resolved = parse_alerts(payload, source="zabbix_test")
        assert fired.source == "zabbix_test" and fired.service == "db-1" and fired.severity == Severity.HIGH
        assert fired.labels["team"] == "infra" and fired.fingerprint == resolved.fingerprint == "zabbix_test:e1"
        assert resolved.status == AlertStatus.RESOLVED
        with pytest.raises(PayloadError, match="is not one of"):
            parse_alerts({"events": [{"trigger": {"name": "x"}, "value": "7"}]}, source="zabbix_test")
    finally:
        unregister("zabbix_test")
    with pytest.raises(PayloadError, match="built-in"):
        register_mappings({"grafana": {}})


def test_unknown_source_and_empty_payloads() -> None:
    with pytest.raises(PayloadError, match="unknown alert source"):
        parse_alerts({}, source="nagios-classic")
    with pytest.raises(PayloadError, match="holds no alerts"):
        parse_alerts({"version": "4", "groupKey": "k", "alerts": []}, source="alertmanager")
