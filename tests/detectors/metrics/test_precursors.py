from __future__ import annotations

from datetime import timedelta

import numpy as np

from bot.domain.models import MetricSeries
from bot.pipeline.early_warning import EarlyWarningJob, precursor_warnings
from config.settings import PredictionSettings, WatchSettings
from detectors.metrics.precursors import PastIncident, PrecursorModel
from tests.detectors.metrics.metric_factories import T0, series

DAY = 24 * 60


def _history(seed: int = 0) -> tuple[list[MetricSeries], list[PastIncident], list[tuple[str, object]]]:
    """Ten days of one service: before each pool-exhaustion incident its queue backs up for 40 min."""
    rng = np.random.default_rng(seed)
    n = 10 * DAY
    queue = 20 + rng.normal(0, 2, n)
    cpu = 0.4 + rng.normal(0, 0.02, n)
    incidents, negatives = [], []
    for day in range(1, 9):
        start = day * DAY + 600 + int(rng.integers(0, 60))
        queue[start - 40 : start + 30] += np.linspace(0, 300, 70)  # backlog building up
        incidents.append(PastIncident(T0 + timedelta(minutes=start), "orders", "db_connection_exhaustion"))
        negatives.append(("orders", T0 + timedelta(minutes=day * DAY + 200)))
        cpu[day * DAY + 100 : day * DAY + 130] += 0.3  # cpu bursts every day, unrelated to incidents
    return [series("orders", "queue_depth", queue), series("orders", "cpu_usage", cpu)], incidents, negatives


def test_learns_the_pattern_that_precedes_incidents_and_not_the_unrelated_one() -> None:
    data, incidents, negatives = _history()
    model = PrecursorModel().fit(incidents, data, negatives=negatives)  # type: ignore[arg-type]
    assert [(p.pattern, p.kind) for p in model.precursors] == [("queue:up", "db_connection_exhaustion")]
    p = model.precursors[0]
    assert p.support == 8 and p.false_alarms == 0 and p.precision > 0.85
    assert 20 <= p.lead_minutes <= 60


def test_live_backlog_raises_a_precursor_warning_through_the_job() -> None:
    data, incidents, negatives = _history(1)
    model = PrecursorModel().fit(incidents, data, negatives=negatives)  # type: ignore[arg-type]
    rng = np.random.default_rng(5)
    live = 20 + rng.normal(0, 2, 180)
    live[150:] += np.linspace(0, 200, 30)
    now = T0 + timedelta(days=20, minutes=179)
    current = series("orders", "queue_depth", live, start=T0 + timedelta(days=20))
    (w,) = precursor_warnings(model, "orders", [current], now=now)
    assert w.kind == "db_connection_exhaustion" and w.check == "precursor" and w.confidence > 0.85

    class Source:
        def fetch(self, watch: WatchSettings, *, start: object, end: object) -> list[MetricSeries]:
            return [current]

    got: list[object] = []
    settings = PredictionSettings(watches=[WatchSettings(name="q", metric="queue_depth", limit=1e9)])
    job = EarlyWarningJob(
        settings=settings, source=Source(), on_warning=got.append, clock=lambda: now, precursors=model
    )
    assert [x.check for x in job.run_once()] == ["precursor"]
    quiet = series("orders", "queue_depth", 20 + rng.normal(0, 2, 180), start=T0 + timedelta(days=20))
    assert precursor_warnings(model, "orders", [quiet], now=now) == []
