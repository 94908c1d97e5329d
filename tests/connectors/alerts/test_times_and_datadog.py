"""Start times from every common field and form (or a noted fallback), and Datadog's service forms."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.alerts import parse_alerts
from connectors.alerts.common import TIME_NOTE, to_time

AT = datetime(2026, 3, 14, 9, 41, 30, tzinfo=UTC)
EPOCH = int(AT.timestamp())


@pytest.mark.parametrize("field", ["starts_at", "startsAt", "start_time", "startTime", "started_at", "fired_at",
                                   "triggered_at", "timestamp", "@timestamp", "time", "date", "created_at",
                                   "createdAt"])
@pytest.mark.parametrize("value", [EPOCH, EPOCH * 1000, str(EPOCH), str(EPOCH * 1000), f"{EPOCH}.0",
                                   "2026-03-14T09:41:30Z", "2026-03-14T09:41:30.000000000Z",
                                   "2026-03-14T10:41:30+01:00", "2026-03-14 09:41:30", "Sat, 14 Mar 2026 09:41:30 +0000"])
def test_generic_start_time_from_common_fields(field: str, value: Any) -> None:
    (alert,) = parse_alerts({"title": "Disk full", "service": "ledger", field: value}, source="generic")
    assert alert.starts_at == AT
    assert TIME_NOTE not in alert.annotations


@pytest.mark.parametrize("value", [1e20, math.nan, math.inf, -1, {"when": "now"}, [1, 2], 1e300, True, "yesterday",
                                   "2026-13-45T99:00:00Z", "9" * 400], ids=lambda v: repr(v)[:20])
def test_generic_unreadable_start_time_falls_back_to_now_with_a_note(value: Any) -> None:
    before = datetime.now(UTC)
    (alert,) = parse_alerts({"title": "Disk full", "starts_at": value}, source="generic")
    assert before - timedelta(seconds=1) <= alert.starts_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert "starts_at=" in alert.annotations[TIME_NOTE] and "received" in alert.annotations[TIME_NOTE]


def test_generic_later_readable_field_is_used_when_the_first_is_garbage() -> None:
    (alert,) = parse_alerts({"title": "x", "starts_at": "soon", "timestamp": EPOCH}, source="generic")
    assert alert.starts_at == AT and TIME_NOTE not in alert.annotations


@pytest.mark.parametrize("source,payload", [
    ("alertmanager", {"version": "4", "groupKey": "k", "alerts": [{"status": "firing", "labels": {"alertname": "x"},
                                                                   "startsAt": {"bad": 1}, "endsAt": 1e300}]}),
    ("grafana", {"version": "1", "orgId": 1, "alerts": [{"status": "firing", "labels": {"alertname": "x"},
                                                         "startsAt": "NaN", "endsAt": math.nan}]}),
    ("opsgenie", {"action": "Create", "alert": {"alertId": "a", "message": "x", "createdAt": 1e20}}),
    ("pagerduty", {"event": {"event_type": "incident.triggered", "resource_type": "incident", "occurred_at": [],
                             "data": {"id": "P", "type": "incident", "created_at": 1e300}}}),
    ("datadog", {"alert_id": "1", "alert_transition": "Triggered", "alert_title": "x", "date": "1e999"}),
])
def test_every_vendor_survives_a_bad_time_and_says_so(source: str, payload: dict[str, Any]) -> None:
    (alert,) = parse_alerts(payload, source=source)
    assert abs(alert.starts_at - datetime.now(UTC)) < timedelta(seconds=5)
    assert TIME_NOTE in alert.annotations


@pytest.mark.parametrize("value", [None, "", "0", 0, "0001-01-01T00:00:00Z", "1e20", "nan", "-inf", object(), b"1",
                                   10**400, "2026-03-14T09:41:30+99:00"], ids=lambda v: repr(v)[:20])
def test_to_time_is_total(value: Any) -> None:
    assert to_time(value) is None


def test_to_time_nanoseconds_and_microseconds() -> None:
    assert to_time(EPOCH * 1_000_000) == AT
    assert to_time(EPOCH * 1_000_000_000) == AT
    assert to_time("2026-03-14T09:41:30.123456789+00:00") == AT + timedelta(microseconds=123456)


def _dd(**fields: Any) -> dict[str, Any]:
    return {"id": "5485379890863845239", "event_type": "metric_alert_monitor", "org": {"id": "1", "name": "acme"},
            "last_updated": str(EPOCH * 1000 + 5000), "date": str(EPOCH * 1000), "body": "%%%\nerrors up\n%%%",
            **fields}


@pytest.mark.parametrize(("fields", "service"), [
    ({"title": "[Triggered on {service:checkout,env:prod}] Error rate high"}, "checkout"),
    ({"title": "[P1] [Triggered on {kube_deployment:cart,kube_namespace:shop}] Restarts"}, "cart"),
    ({"title": "[Triggered on {host:ip-10-0-3-17}] CPU high"}, "ip-10-0-3-17"),
    ({"title": "[Triggered] Error rate high", "tags": "env:prod,service:checkout"}, "checkout"),
    ({"title": "[Triggered] Restarts", "tags": ["kube_namespace:shop", "pod_name:ledger-0"]}, "ledger"),
    ({"title": "[Triggered] Restarts", "body": "Pod restarts high on pod_name:search-7b9c6d5f8-mn4pq in shop"},
     "search"),
    ({"title": "[Triggered] Latency high for service:payments"}, "payments"),
    ({"title": "[Triggered] Latency", "tags": "service:checkout", "body": "service:other was slow"}, "checkout"),
])
def test_datadog_service_from_title_scope_tags_and_text(fields: dict[str, Any], service: str) -> None:
    (alert,) = parse_alerts(_dd(**fields))
    assert alert.source == "datadog" and alert.service == service
    assert alert.starts_at == AT


def test_datadog_scope_in_title_is_the_identity_of_a_multi_alert_group() -> None:
    (one,) = parse_alerts(_dd(title="[Triggered on {service:checkout}] Error rate", body="monitors#42"))
    (two,) = parse_alerts(_dd(title="[Triggered on {service:cart}] Error rate", body="monitors#42"))
    (back,) = parse_alerts(_dd(title="[Recovered on {service:checkout}] Error rate", body="monitors#42"))
    assert one.fingerprint == back.fingerprint == "dd:42:service:checkout" != two.fingerprint
    assert one.name == "Error rate" and one.labels["scope"] == "service:checkout"
    assert back.ends_at == AT


def test_datadog_unknown_bracket_prefix_stays_in_the_title() -> None:
    (alert,) = parse_alerts(_dd(title="[prod] Error rate"))
    assert alert.name == "[prod] Error rate"


def test_datadog_renotification_keeps_the_first_trigger_time() -> None:
    body = "%%%\nerrors up\n\nThe monitor was last triggered at Sat Mar 14 2026 09:30:00 UTC.\n%%%"
    (alert,) = parse_alerts(_dd(title="[Re-Triggered] Error rate", body=body))
    assert alert.starts_at == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def test_datadog_custom_payload_event_time() -> None:
    payload = {"alert_id": "7", "alert_transition": "Triggered", "alert_title": "Queue backlog",
               "event_time": EPOCH * 1000, "tags": {"service": "orders"}}
    (alert,) = parse_alerts(payload, source="datadog")
    assert alert.starts_at == AT and alert.service == "orders"
