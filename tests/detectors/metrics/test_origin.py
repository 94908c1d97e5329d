"""The analysis' metric detector orders services as ``rank.rank_metric_causes`` does (one metric engine)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from bot.domain import Alert, Incident, IncidentContext
from detectors.metrics import detect_metric_signals
from detectors.registry import alert_metric_of, metrics_detector
from tests.detectors.metrics.metric_factories import T0, noisy, series

ALERT = T0 + timedelta(minutes=150)
TOPOLOGY = {"web": ["api"], "api": ["search"], "search": []}


def _chain(seed: int = 0) -> list:
    """search slows down first; api and web, which call it, follow; an unrelated queue's traffic jumps."""
    search = noisy(160, 20, 1, seed)
    search[146:] += 300
    api = noisy(160, 100, 3, seed + 1)
    api[147:] += 320
    web = noisy(160, 150, 3, seed + 2)
    web[147:] += 330
    sqs = noisy(160, 500, 20, seed + 3)
    sqs[147:] += 3000
    return [
        series("search", "latency_p99", search),
        series("api", "latency_p99", api),
        series("web", "latency_p99", web),
        series("sqs", "requests_sum", sqs),
    ]


def test_the_origin_of_its_callers_latency_is_a_failing_dependency() -> None:
    sigs = detect_metric_signals(_chain(), alert_time=ALERT, topology=TOPOLOGY, alert_metric="latency")
    origins = [s for s in sigs if s.detector == "metric.origin"]
    assert len(origins) == 1
    origin = origins[0]
    assert origin.service == "search" and origin.kind == "dependency_failure"
    assert set(origin.attributes["explains"]) >= {"api"}
    assert "accounts for the latency of its callers" in origin.evidence[0].summary
    assert sigs[0].service == "search"


def test_services_are_weighed_by_the_ranking_of_the_alerting_metric() -> None:
    """The traffic jump on an unrelated service is a strong change point, but the ranking (latency
    alert) gives it little: its signal falls below every signal of the origin."""
    sigs = detect_metric_signals(_chain(), alert_time=ALERT, topology=TOPOLOGY, alert_metric="latency")
    traffic = next(s for s in sigs if s.service == "sqs")
    assert traffic.kind == "traffic_spike"
    assert traffic.score < min(s.score for s in sigs if s.service == "search")
    without = detect_metric_signals(_chain(), alert_time=ALERT, topology=TOPOLOGY)
    assert next(s for s in without if s.service == "sqs").score > traffic.score


def test_a_service_whose_series_name_its_cause_gets_no_origin_signal() -> None:
    db = noisy(100, 10, 1, 2)
    db[50:] = 100  # pool in use jumps to its max and stays there
    api = noisy(100, 100, 5, 3)
    api[55:] += 800
    sigs = detect_metric_signals(
        [series("api", "latency_p95_ms", api), series("db", "db_connections_in_use", db)],
        alert_time=T0 + timedelta(minutes=60), topology={"api": ["db"]}, alert_metric="latency_p95_ms",
    )
    assert not [s for s in sigs if s.detector == "metric.origin"]
    assert sigs[0].service == "db" and sigs[0].kind == "db_connection_exhaustion"


def test_no_origin_signal_for_a_lone_service_or_an_unlisted_family() -> None:
    cpu = noisy(100, 0.3, 0.02, 5)
    cpu[60:] = 0.97
    lone = detect_metric_signals([series("host", "cpu_usage_ratio", cpu)], alert_time=T0 + timedelta(minutes=65))
    assert [s.kind for s in lone] == ["cpu_saturation"]
    q = noisy(100, 5, 1, 6)
    q[60:] += 200
    lat = noisy(100, 50, 2, 7)
    lat[61:] += 100
    sigs = detect_metric_signals(
        [series("worker", "write_backlog_items", q), series("front", "latency_p95_ms", lat)],
        alert_time=T0 + timedelta(minutes=65), topology={"front": ["worker"]},
    )
    assert not [s for s in sigs if s.detector == "metric.origin"]


def _context(labels: dict[str, str], metrics: list | None = None) -> IncidentContext:
    alert = Alert(name="web latency", service="web", labels=labels, starts_at=ALERT)
    return IncidentContext(incident=Incident(title="web latency", service="web", alerts=[alert]),
                           metrics=metrics or [], topology=TOPOLOGY)


def test_the_alerting_metric_comes_from_the_alert_label_only() -> None:
    assert alert_metric_of(_context({"metric": "latency"})) == "latency"
    assert alert_metric_of(_context({"__name__": "http_request_duration_seconds"})) == "http_request_duration_seconds"
    assert alert_metric_of(_context({"alertname": "HighLatency", "metric": "  "})) is None
    sigs = metrics_detector(_context({"metric": "latency"}, _chain()))
    assert sigs[0].service == "search"
    assert any(s.detector == "metric.origin" for s in sigs)


def test_pre_alert_history_tames_a_series_with_usual_spikes() -> None:
    """Without a separate baseline, the window's own pre-alert points are the normal history: a spike
    as high as the ones the series always had is not the origin; a first-ever one would be."""
    rng = np.random.default_rng(4)
    usual = np.where(rng.random(400) < 0.02, 5.0, 1.0) + rng.normal(0, 0.01, 400)
    usual[-10:] = 1.0
    usual[-6] = 5.0  # one of its usual spikes, at the alert
    first_ever = np.full(400, 1.0) + rng.normal(0, 0.01, 400)
    first_ever[-6] = 5.0
    at = T0 + timedelta(minutes=394)
    from detectors.metrics.rank import rank_metric_causes

    ranked = rank_metric_causes([series("ssm", "latency_p90", usual), series("s3", "latency_p90", first_ever)],
                                alert_time=at)
    by = {c.service: c for c in ranked}
    assert ranked[0].service == "s3"
    assert by["ssm"].score < 0.5 < by["s3"].score
