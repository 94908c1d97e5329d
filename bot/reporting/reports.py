"""Named reports over one snapshot: what the JSON API, the pages, the CSV export and the digest share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain import InputError
from bot.reporting import gameday as gameday_mod
from bot.reporting.quality import calibration, feedback_counts, hit_rank, hit_rates, llm_usage
from bot.reporting.queries import (
    IncidentFacts,
    Snapshot,
    gameday_runs,
    iter_incident_pages,
    load_snapshot,
    open_incidents,
)
from bot.reporting.scope import ReportScope
from bot.reporting.timing import minutes_to_ack, minutes_to_resolve, response_times
from bot.reporting.volume import early_warnings, incidents_per_day, root_causes
from bot.storage import Store


@dataclass(frozen=True)
class ReportOptions:
    group_by: str = "category"
    bucket: str | None = None  # day, week, or None for automatic
    bins: int = 10
    limit: int = 10
    horizon_hours: float = 24.0
    q: str | None = None
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.group_by not in ("category", "severity", "service"):
            raise InputError(f"group_by={self.group_by!r}: use category, severity or service")
        if self.bucket not in (None, "day", "week"):
            raise InputError(f"bucket={self.bucket!r}: use day or week")
        if not 2 <= self.bins <= 50:
            raise InputError(f"bins={self.bins} must be between 2 and 50")
        if not 0 < self.horizon_hours <= 24 * 30:
            raise InputError(f"horizon_hours={self.horizon_hours} must be in (0, 720]")


def incident_rows(snapshot: Snapshot) -> dict[str, Any]:
    """The incident list, newest first, with the figures each row shows."""
    items = [incident_row(facts) for facts in reversed(snapshot.incidents)]
    return {"total": len(items), "items": items, "rows": items}


INCIDENT_COLUMNS = ("id", "title", "service", "severity", "status", "category", "created_at", "early_warning",
                    "minutes_to_ack", "minutes_to_resolve", "top_cause", "top_confidence", "confirmed_cause",
                    "hit_rank")


def incident_row(facts: IncidentFacts) -> dict[str, Any]:
    """One row of the incident list (``INCIDENT_COLUMNS``)."""
    inc, answer = facts.incident, facts.answer
    rank = hit_rank(inc, answer) if answer is not None and inc.confirmed_kind and inc.confirmed_service else None
    return {
        "id": inc.id, "title": inc.title, "service": inc.service, "severity": inc.severity.value,
        "status": inc.status.value, "category": facts.category, "created_at": inc.created_at.isoformat(),
        "early_warning": inc.is_early_warning,
        "minutes_to_ack": _r(minutes_to_ack(inc)), "minutes_to_resolve": _r(minutes_to_resolve(inc)),
        "top_cause": f"{answer.top.kind} in {answer.top.service}" if answer and answer.top else None,
        "top_confidence": round(answer.top.confidence, 3) if answer and answer.top else None,
        "confirmed_cause": f"{inc.confirmed_kind} in {inc.confirmed_service}"
        if inc.confirmed_kind and inc.confirmed_service else None,
        "hit_rank": rank,
    }


def stream_incident_rows(*, store: Store, scope: ReportScope, options: ReportOptions | None = None,
                         page_size: int = 500) -> Iterator[dict[str, Any]]:
    """The ``incidents`` report's rows, newest first, read a page at a time (the export of any range)."""
    options = options or ReportOptions()
    for page in iter_incident_pages(store=store, scope=scope, q=options.q, status=options.status,
                                    page_size=page_size):
        yield from (incident_row(facts) for facts in page)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summary(snapshot: Snapshot, *, store: Store, options: ReportOptions) -> dict[str, Any]:
    """The overview's headline figures."""
    times = response_times(snapshot)
    hits = hit_rates(snapshot)
    warnings = early_warnings(snapshot, horizon=timedelta(hours=options.horizon_hours))
    opened = open_incidents(store=store, service=snapshot.scope.service)
    figures = {
        "incidents": len(snapshot.incidents),
        "open_now": len(opened),
        "resolved": sum(1 for f in snapshot.incidents if f.incident.resolved_at is not None),
        "mtta_p50_min": times["mtta"]["p50"], "mtta_mean_min": times["mtta"]["mean"],
        "mttr_p50_min": times["mttr"]["p50"], "mttr_mean_min": times["mttr"]["mean"],
        "mttr_p90_min": times["mttr"]["p90"],
        "early_warnings": warnings["raised"], "early_warnings_came_true": warnings["came_true"],
        "top1": hits["top1"], "top3": hits["top3"], "judged": hits["cases"],
        "feedback": len(snapshot.feedback),
    }
    open_items = [{"id": i.id, "title": i.title, "service": i.service, "severity": i.severity.value,
                   "status": i.status.value, "created_at": i.created_at.isoformat()} for i in opened]
    return {"figures": figures, "open": open_items,
            "rows": [{"figure": k, "value": v} for k, v in figures.items()]}


ReportFn = Callable[[Snapshot, Store, ReportOptions], dict[str, Any]]

REPORTS: dict[str, ReportFn] = {
    "summary": lambda s, store, o: summary(s, store=store, options=o),
    "incidents": lambda s, _store, _o: incident_rows(s),
    "incidents-per-day": lambda s, _store, o: incidents_per_day(s, group_by=o.group_by),  # type: ignore[arg-type]
    "response-times": lambda s, _store, o: response_times(s, bucket=o.bucket),  # type: ignore[arg-type]
    "root-causes": lambda s, _store, o: root_causes(s, limit=o.limit),
    "early-warnings": lambda s, _store, o: early_warnings(s, horizon=timedelta(hours=o.horizon_hours)),
    "hit-rate": lambda s, _store, o: hit_rates(s, bucket=o.bucket),  # type: ignore[arg-type]
    "calibration": lambda s, _store, o: calibration(s, bins=o.bins),
    "feedback": lambda s, _store, _o: feedback_counts(s),
    "llm": lambda s, _store, o: llm_usage(s, bucket=o.bucket),  # type: ignore[arg-type]
}


def build_report(name: str, *, store: Store, scope: ReportScope, options: ReportOptions | None = None) -> dict[str, Any]:
    """One named report as JSON-ready data with its scope; ``rows`` is its flat table (CSV export)."""
    options = options or ReportOptions()
    if name == "gameday":
        data = gameday_mod.summarize_runs(gameday_runs(store=store))
        return {"report": name, "scope": scope.as_dict(), **data}
    fn = REPORTS.get(name)
    if fn is None:
        raise InputError(f"no report {name!r}; known: {sorted([*REPORTS, 'gameday'])}")
    snapshot = load_snapshot(store=store, scope=scope, horizon=timedelta(hours=options.horizon_hours),
                             q=options.q, status=options.status)
    return {"report": name, "scope": scope.as_dict(), **fn(snapshot, store, options)}


REPORT_NAMES: tuple[str, ...] = (*REPORTS, "gameday")
