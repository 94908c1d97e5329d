"""Series that stop before the alert while the others go on (detectors/metrics/silence.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import MetricSeries
from detectors.metrics import detect_metric_signals
from detectors.metrics.silence import metric_silences

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALERT = T0 + timedelta(minutes=60)
STEP = 30  # seconds


def _series(service: str, metric: str, *, until_min: float = 60, from_min: float = 0, step: int = STEP,
            labels: dict[str, str] | None = None, value: float = 40.0, zero_from_min: float | None = None,
            gappy: bool = False) -> MetricSeries:
    ts: list[datetime] = []
    vs: list[float] = []
    t = from_min * 60
    i = 0
    while t <= until_min * 60:
        i += 1
        if gappy and (i // 10) % 2 == 0:  # ten samples missing in every twenty
            t += step
            continue
        ts.append(T0 + timedelta(seconds=t))
        vs.append(0.0 if zero_from_min is not None and t >= zero_from_min * 60 else value + (i % 3))
        t += step
    return MetricSeries(service=service, metric=metric, labels=labels or {}, timestamps=ts, values=vs)


def _found(series: list[MetricSeries], alert: datetime | None = ALERT) -> set[tuple[str, str]]:
    return {(s.service, str(s.kind)) for s in metric_silences(series, alert_time=alert)}


WITNESSES = [_series("checkout", "latency_p99_ms"), _series("payments", "error_ratio")]


def test_a_component_whose_series_stop_while_the_others_go_on_went_away() -> None:
    gone = [_series("ledger", "cpu_percent", until_min=30), _series("ledger", "requests_per_second", until_min=30)]
    signals = metric_silences([*gone, *WITNESSES], alert_time=ALERT)
    assert [(s.service, s.kind) for s in signals] == [("ledger", "node_failure")]
    assert signals[0].started_at == T0 + timedelta(minutes=30)
    assert signals[0].attributes["witnesses"] == ["checkout", "payments"]


def test_the_metric_engine_reports_it() -> None:
    gone = _series("ledger", "cpu_percent", until_min=30)
    signals = detect_metric_signals([gone, *WITNESSES], alert_time=ALERT)
    assert ("ledger", "node_failure", "metric.silence") in {(s.service, s.kind, s.detector) for s in signals}


def test_a_host_whose_node_exporter_series_vanish_is_a_node_failure_on_the_host() -> None:
    host = {"instance": "db-host-2:9100", "job": "node"}
    gone = [_series("db-host-2", "node_cpu_busy_ratio", until_min=25, labels=host),
            _series("db-host-2", "node_memory_available_ratio", until_min=25, labels=host),
            # the process on it stops with it: the host's silence names the fault, not the process's
            _series("orders-db", "pg_up_connections", until_min=25, labels={"instance": "db-host-2:9187"})]
    assert _found([*gone, *WITNESSES]) == {("db-host-2", "node_failure")}


def test_a_process_whose_series_end_while_its_host_reports_crashed() -> None:
    host = [_series("web-1", "node_cpu_busy_ratio", labels={"instance": "web-1:9100", "job": "node"})]
    gone = [_series("api", "http_requests_rate", until_min=40, labels={"instance": "web-1:8080", "job": "api"})]
    assert _found([*host, *gone, *WITNESSES]) == {("api", "crash_loop")}


def test_a_target_whose_up_falls_to_zero_needs_no_witness() -> None:
    up = [_series("api", "up", value=1.0, zero_from_min=35, labels={"instance": "web-1:8080", "job": "api"})]
    signals = metric_silences(up, alert_time=ALERT)
    assert [(s.service, s.kind) for s in signals] == [("api", "node_failure")]
    assert signals[0].attributes["up_zero"] is True
    # the same with the host's node_exporter still answering: the process crashed
    node = _series("web-1", "up", value=1.0, labels={"instance": "web-1:9100", "job": "node"})
    assert _found([*up, node]) == {("api", "crash_loop")}


@pytest.mark.parametrize(
    "case",
    [
        # every series ends where the bundle's window ends (before the alert): the collection ended, not the component
        "window_ends",
        # the series stopped after the alert
        "after_alert",
        # too short a silence for its own rhythm: a series sampled every 5 minutes, quiet for 12 minutes
        "slow_series",
        # a scrape that was always gappy: its silence is what it always did
        "gappy",
        # a new instance of the same service starts as the old one stops: a rollout
        "rollout",
        # only one other component goes on: not enough witnesses
        "one_witness",
        # an up that was 0 all along: never reported
        "never_up",
    ],
)
def test_what_is_not_a_silence(case: str) -> None:
    if case == "window_ends":
        series = [_series("ledger", "cpu_percent", until_min=45), _series("checkout", "latency_p99_ms", until_min=45),
                  _series("payments", "error_ratio", until_min=45)]
    elif case == "after_alert":
        series = [_series("ledger", "cpu_percent", until_min=62), _series("checkout", "latency_p99_ms", until_min=80),
                  _series("payments", "error_ratio", until_min=80)]
    elif case == "slow_series":
        series = [_series("ledger", "backup_bytes", step=300, until_min=48), *WITNESSES]
    elif case == "gappy":
        series = [_series("ledger", "cpu_percent", until_min=40, gappy=True), *WITNESSES]
    elif case == "rollout":
        series = [_series("checkout", "cpu_percent", until_min=30, labels={"pod": "checkout-7d9f-abcde"}),
                  _series("checkout", "cpu_percent", from_min=29, labels={"pod": "checkout-5c4b-fghij"}),
                  *WITNESSES]
    elif case == "one_witness":
        series = [_series("ledger", "cpu_percent", until_min=30), WITNESSES[0]]
    else:
        series = [_series("api", "up", value=0.0), *WITNESSES]
    assert _found(series) == set()


def test_one_instance_of_several_that_stops_is_named_on_its_service_at_a_lower_score() -> None:
    members = [_series("web", "cpu_percent", labels={"instance": f"web-{i}:9100"}) for i in (1, 2)]
    gone = _series("web", "cpu_percent", until_min=30, labels={"instance": "web-3:9100"})
    signals = metric_silences([*members, gone, *WITNESSES], alert_time=ALERT)
    assert [(s.service, s.kind) for s in signals] == [("web", "node_failure")]
    assert signals[0].score < 0.75


def test_odd_series_do_not_raise() -> None:
    odd = [MetricSeries(service="x", metric="m", timestamps=[], values=[]),
           MetricSeries(service="y", metric="m", timestamps=[T0, T0], values=[float("nan"), float("inf")]),
           MetricSeries(service="", metric="m", timestamps=[T0, T0 + timedelta(minutes=1)], values=[1.0, 2.0])]
    assert metric_silences(odd, alert_time=ALERT) == []
    assert metric_silences(odd, alert_time=None) == []


def test_live_up_series_from_a_prometheus_range_query() -> None:
    from connectors.prometheus.client import parse_query_range

    start = int(T0.timestamp())

    def values(zero_from: int | None) -> list[list[object]]:
        return [[start + 30 * i, "0" if zero_from is not None and i >= zero_from else "1"] for i in range(120)]

    payload = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"__name__": "up", "job": "api", "instance": "web-1:8080"}, "values": values(70)},
        {"metric": {"__name__": "up", "job": "node", "instance": "web-1:9100"}, "values": values(None)},
    ]}}
    series = parse_query_range(payload, metric="up")
    signals = detect_metric_signals(series, alert_time=ALERT)
    silent = [(s.service, s.kind) for s in signals if s.detector == "metric.silence"]
    assert silent == [("api", "crash_loop")]


@pytest.mark.parametrize(("change_min", "kept"), [(25, False), (31, False), (5, True), (40, True), (None, True)])
def test_a_component_changed_just_before_it_stopped_was_stopped_on_purpose(change_min: float | None,
                                                                            kept: bool) -> None:
    from bot.domain.models import ChangeEvent
    from detectors.metrics.silence import without_planned_stops

    signals = metric_silences([_series("ledger", "cpu_percent", until_min=30), *WITNESSES], alert_time=ALERT)
    events = [] if change_min is None else [
        ChangeEvent(ts=T0 + timedelta(minutes=change_min), kind="maintenance", service="ledger",
                    text="planned restart of ledger")]
    assert bool(without_planned_stops(signals, events)) is kept
    other = [ChangeEvent(ts=T0 + timedelta(minutes=28), kind="deploy", service="checkout", text="checkout v2")]
    assert without_planned_stops(signals, other) == signals
