"""Detector registry: every detector is a callable ``(IncidentContext) -> list[Signal]`` registered under the
``sherlog.detectors`` entry-point group, the same way a third-party package would add one.

Built-ins (pyproject.toml): ``logs``, ``metrics``, ``changes``, ``kubernetes``, ``decisive_logs``. A detector that
raises is reported by the pipeline as a note and the analysis goes on without it.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Protocol

from bot.domain import IncidentContext, Signal

log = logging.getLogger(__name__)

GROUP = "sherlog.detectors"


class Detector(Protocol):
    def __call__(self, context: IncidentContext) -> list[Signal]: ...


def logs_detector(context: IncidentContext) -> list[Signal]:
    from detectors.logs import detect_log_signals

    return detect_log_signals(context.logs, alert_time=context.alert_time) if context.logs else []


def decisive_logs_detector(context: IncidentContext) -> list[Signal]:
    """Lines that explain a failure by themselves (``detectors/logs/decisive.py``), rules then meaning."""
    from detectors.logs.decisive import detect_decisive_signals

    return detect_decisive_signals(context.logs, alert_time=context.alert_time) if context.logs else []


# labels that name the metric an alert fires on (Prometheus ``__name__``, CloudWatch ``MetricName``, generic)
ALERT_METRIC_LABELS = ("metric", "metric_name", "MetricName", "__name__")


def alert_metric_of(context: IncidentContext) -> str | None:
    """The metric the incident's alert fires on, when a label names it (None otherwise: an alert
    name such as ``HighLatency`` is not read as a metric)."""
    for alert in context.incident.alerts:
        for key in ALERT_METRIC_LABELS:
            value = alert.labels.get(key)
            if value and value.strip():
                return value.strip()
    return None


def metrics_detector(context: IncidentContext) -> list[Signal]:
    from detectors.metrics import detect_metric_signals
    from detectors.metrics.silence import without_planned_stops

    if not context.metrics:
        return []
    signals = detect_metric_signals(context.metrics, alert_time=context.alert_time, topology=context.topology,
                                    alert_metric=alert_metric_of(context))
    return without_planned_stops(signals, context.events)  # a component stopped on purpose did not go away


def changes_detector(context: IncidentContext) -> list[Signal]:
    """The change log's changes and those only a log states (``detectors/logs/changes.py``)."""
    from detectors.changes import detect_change_signals, with_log_changes

    events = with_log_changes(context.events, context.logs, known=context.services)
    return detect_change_signals(events, alert_time=context.alert_time) if events else []


def kubernetes_detector(context: IncidentContext) -> list[Signal]:
    from detectors.kubernetes import detect_kubernetes_signals

    return detect_kubernetes_signals(context) if context.kubernetes or context.events or context.logs else []


BUILTIN: dict[str, Detector] = {
    "logs": logs_detector,
    "metrics": metrics_detector,
    "changes": changes_detector,
    "kubernetes": kubernetes_detector,
    "decisive_logs": decisive_logs_detector,
}


@lru_cache(maxsize=1)
def load_detectors() -> tuple[tuple[str, Detector], ...]:
    """Detectors from the entry points (built-ins first); falls back to the built-ins when the package
    metadata is missing (running from a source tree that was never installed)."""
    found: dict[str, Detector] = {}
    for ep in entry_points(group=GROUP):
        try:
            found[ep.name] = ep.load()
        except Exception as e:  # noqa: BLE001 - a broken plugin must not stop the built-ins
            log.warning("detector plugin failed to load", extra={"plugin": ep.name, "error": str(e)})
    for name, fn in BUILTIN.items():
        found.setdefault(name, fn)
    order = [*BUILTIN, *sorted(set(found) - set(BUILTIN))]
    return tuple((name, found[name]) for name in order)
