"""Learned precursors: metric patterns that came before past incidents.

From history (past incidents with a time, a service and a root-cause kind, plus the metric series
around them) the model counts which patterns (``metric family`` + direction, e.g. ``queue up``)
were anomalous on the incident's service in the ``lead`` window BEFORE it started, and how often the
same pattern shows up in windows with no incident (``negatives``). A pattern that came before at
least ``min_support`` incidents of a kind, with a precision (Laplace-smoothed) of at least
``min_precision``, becomes a precursor. ``match`` then looks at current series and names the kinds
whose precursors are present now, with that precision as the confidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import MetricSeries
from detectors.metrics.kinds import rule_for
from detectors.metrics.signals import detect_metric_signals


@dataclass(frozen=True)
class PastIncident:
    started_at: datetime
    service: str
    kind: str


@dataclass(frozen=True)
class Precursor:
    pattern: str  # "<family>:<up|down>"
    kind: str  # the root-cause kind it came before
    support: int  # incidents it came before
    incidents: int  # incidents of that kind seen
    false_alarms: int  # negative windows where it showed up
    precision: float  # (support + 1) / (support + false_alarms + 2)
    lead_minutes: float  # median minutes between the pattern and the incident


@dataclass
class PrecursorModel:
    lead: timedelta = timedelta(hours=1)
    min_support: int = 2
    min_precision: float = 0.6
    min_score: float = 0.5
    precursors: list[Precursor] = field(default_factory=list)

    def patterns(self, series: list[MetricSeries], *, end: datetime) -> dict[str, datetime]:
        """Anomalous patterns in ``[end - lead, end]``, each with its earliest change time."""
        start = end - self.lead
        window = [_cut(s, start, end) for s in series]
        found: dict[str, datetime] = {}
        for sig in detect_metric_signals([w for w in window if w.values], min_score=self.min_score):
            rule = rule_for(sig.metric or "")
            family = rule.family if rule is not None else "other"
            direction = "up" if sig.attributes.get("direction", 1) > 0 else "down"
            key = f"{family}:{direction}"
            if sig.started_at is not None and (key not in found or sig.started_at < found[key]):
                found[key] = sig.started_at
        return found

    def fit(
        self,
        incidents: list[PastIncident],
        series: list[MetricSeries],
        *,
        negatives: list[tuple[str, datetime]],
    ) -> PrecursorModel:
        """Learn from incidents and from ``negatives`` ((service, window end) with no incident)."""
        by_service: dict[str, list[MetricSeries]] = defaultdict(list)
        for s in series:
            by_service[s.service].append(s)
        support: dict[tuple[str, str], list[float]] = defaultdict(list)
        per_kind: dict[str, int] = defaultdict(int)
        for inc in incidents:
            per_kind[inc.kind] += 1
            for pattern, when in self.patterns(by_service.get(inc.service, []), end=inc.started_at).items():
                support[(pattern, inc.kind)].append((inc.started_at - when).total_seconds() / 60.0)
        false: dict[str, int] = defaultdict(int)
        for service, end in negatives:
            for pattern in self.patterns(by_service.get(service, []), end=end):
                false[pattern] += 1
        self.precursors = []
        for (pattern, kind), leads in sorted(support.items()):
            n = len(leads)
            precision = (n + 1) / (n + false[pattern] + 2)
            if n >= self.min_support and precision >= self.min_precision:
                leads.sort()
                self.precursors.append(
                    Precursor(
                        pattern, kind, n, per_kind[kind], false[pattern], precision, leads[len(leads) // 2]
                    )
                )
        self.precursors.sort(key=lambda p: (-p.precision, -p.support))
        return self

    def match(self, series: list[MetricSeries], *, now: datetime) -> list[tuple[Precursor, datetime]]:
        """Precursors present now in ``series`` (one service's), best first, with when they began."""
        present = self.patterns(series, end=now)
        return [(p, present[p.pattern]) for p in self.precursors if p.pattern in present]


def _cut(s: MetricSeries, start: datetime, end: datetime) -> MetricSeries:
    keep = [i for i, ts in enumerate(s.timestamps) if start <= ts <= end]
    return MetricSeries(
        service=s.service,
        metric=s.metric,
        labels=dict(s.labels),
        timestamps=[s.timestamps[i] for i in keep],
        values=[s.values[i] for i in keep],
    )
