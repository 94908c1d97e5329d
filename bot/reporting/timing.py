"""How fast incidents are handled: MTTA and MTTR, with percentiles and a trend per day or week.

An incident's clock starts at ``started_at`` (the first alert's start) or, failing that, when
Sherlog opened it. Time to acknowledge ends at ``acknowledged_at``; time to resolve at
``resolved_at``. Figures are in minutes. Negative durations (clock skew) are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from bot.domain import Incident
from bot.reporting.fold import Fold
from bot.reporting.queries import IncidentFacts, Snapshot
from bot.reporting.scope import ReportScope
from bot.reporting.stats import Bucket, auto_bucket, bucket_range, bucket_start, describe


def _start(incident: Incident) -> datetime:
    return incident.started_at or incident.created_at


def minutes_to_ack(incident: Incident) -> float | None:
    if incident.acknowledged_at is None:
        return None
    value = (incident.acknowledged_at - _start(incident)).total_seconds() / 60.0
    return value if value >= 0 else None


def minutes_to_resolve(incident: Incident) -> float | None:
    if incident.resolved_at is None:
        return None
    value = (incident.resolved_at - _start(incident)).total_seconds() / 60.0
    return value if value >= 0 else None


class ResponseTimes(Fold):
    """MTTA and MTTR over the scope and per bucket (by the incident's creation time); keeps the durations
    only (an exact percentile needs them all)."""

    def __init__(self, scope: ReportScope, *, bucket: Bucket | None = None) -> None:
        self.scope = scope
        self.size: Bucket = bucket or auto_bucket(scope.since, scope.until)
        self.ack: list[float] = []
        self.res: list[float] = []
        self.ack_by: dict[str, list[float]] = defaultdict(list)
        self.res_by: dict[str, list[float]] = defaultdict(list)

    def add(self, facts: IncidentFacts) -> None:
        inc = facts.incident
        key = bucket_start(inc.created_at, self.size).isoformat()
        a, r = minutes_to_ack(inc), minutes_to_resolve(inc)
        if a is not None:
            self.ack.append(a)
            self.ack_by[key].append(a)
        if r is not None:
            self.res.append(r)
            self.res_by[key].append(r)

    def result(self) -> dict[str, Any]:
        trend: list[dict[str, Any]] = []
        for start in bucket_range(self.scope.since, self.scope.until, self.size):
            key = start.isoformat()
            trend.append({"bucket": key, "mtta": describe(self.ack_by.get(key, [])),
                          "mttr": describe(self.res_by.get(key, []))})
        rows = [{"bucket": t["bucket"], "mtta_count": t["mtta"]["count"], "mtta_mean": t["mtta"]["mean"],
                 "mtta_p50": t["mtta"]["p50"], "mtta_p90": t["mtta"]["p90"], "mttr_count": t["mttr"]["count"],
                 "mttr_mean": t["mttr"]["mean"], "mttr_p50": t["mttr"]["p50"], "mttr_p90": t["mttr"]["p90"]}
                for t in trend]
        return {"unit": "minutes", "bucket": self.size, "mtta": describe(self.ack), "mttr": describe(self.res),
                "trend": trend, "rows": rows}


def response_times(snapshot: Snapshot, *, bucket: Bucket | None = None) -> dict[str, Any]:
    """MTTA and MTTR over the scope and per bucket (by the incident's creation time)."""
    return ResponseTimes(snapshot.scope, bucket=bucket).over(snapshot)
