"""A resource that filled up gradually and sits at its limit at the alert is a cause signal, even without a
change point; one that stays well below its limit is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import MetricSeries
from detectors.metrics import detect_metric_signals

T0 = datetime(2026, 3, 14, 8, 30, tzinfo=UTC)


def _series(metric: str, values: list[float], service: str = "inventory") -> MetricSeries:
    return MetricSeries(service=service, metric=metric, values=values,
                        timestamps=[T0 + timedelta(minutes=i) for i in range(len(values))])


def test_disk_filled_to_the_brim_gradually_is_disk_full() -> None:
    ramp = [min(1.0, 0.78 + 0.0036 * m) for m in range(75)]
    signals = detect_metric_signals([_series("disk_used_ratio", ramp)], alert_time=T0 + timedelta(minutes=71))
    [sig] = [s for s in signals if s.service == "inventory"]
    assert sig.kind == "disk_full" and sig.score >= 0.8
    assert sig.started_at is not None and sig.started_at <= T0 + timedelta(minutes=62)


def test_pool_at_its_configured_max_is_connection_exhaustion() -> None:
    in_use = [12.0 + (8 if m > 40 else 0) for m in range(60)]  # 20 of 20 after minute 40
    signals = detect_metric_signals(
        [_series("db_connections_in_use", in_use, "checkout"), _series("db_connections_max", [20.0] * 60, "checkout")],
        alert_time=T0 + timedelta(minutes=50))
    assert any(s.kind == "db_connection_exhaustion" and s.service == "checkout" for s in signals)


def test_disk_steady_at_sixty_percent_is_no_cause() -> None:
    flat = [0.6 + 0.001 * (m % 3) for m in range(75)]
    signals = detect_metric_signals([_series("disk_used_ratio", flat)], alert_time=T0 + timedelta(minutes=71))
    assert not any(s.kind == "disk_full" for s in signals)
