"""Named reports, each computed by a ``Fold`` over one paged read of its scope: what the JSON API, the pages,
the CSV export and the digest share."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.domain import Incident, InputError
from bot.reporting import gameday as gameday_mod
from bot.reporting.fold import PAGE_SIZE, Fold, run_folds
from bot.reporting.quality import Calibration, FeedbackCounts, HitRates, LlmUsage, hit_rank
from bot.reporting.queries import (
    FeedbackTally,
    IncidentFacts,
    Snapshot,
    gameday_runs,
    iter_incident_pages,
    open_incidents,
)
from bot.reporting.scope import ReportScope
from bot.reporting.timing import ResponseTimes, minutes_to_ack, minutes_to_resolve
from bot.reporting.volume import EarlyWarnings, IncidentsPerDay, RootCauses
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


class Summary(Fold):
    """The overview's headline figures."""

    later = True
    feedback = True

    def __init__(self, scope: ReportScope, *, opened: list[Incident], horizon: timedelta) -> None:
        self.times = ResponseTimes(scope)
        self.hits = HitRates(scope)
        self.warnings = EarlyWarnings(horizon=horizon)
        self.opened = opened
        self.incidents = 0
        self.resolved = 0
        self.feedback_total = 0

    def add(self, facts: IncidentFacts) -> None:
        self.incidents += 1
        self.resolved += facts.incident.resolved_at is not None
        for part in (self.times, self.hits, self.warnings):
            part.add(facts)

    def add_later(self, facts: IncidentFacts) -> None:
        self.warnings.add_later(facts)

    def add_feedback(self, tally: FeedbackTally) -> None:
        self.feedback_total += tally.total

    def result(self) -> dict[str, Any]:
        times, hits, warnings = self.times.result(), self.hits.result(), self.warnings.result()
        figures = {
            "incidents": self.incidents,
            "open_now": len(self.opened),
            "resolved": self.resolved,
            "mtta_p50_min": times["mtta"]["p50"], "mtta_mean_min": times["mtta"]["mean"],
            "mttr_p50_min": times["mttr"]["p50"], "mttr_mean_min": times["mttr"]["mean"],
            "mttr_p90_min": times["mttr"]["p90"],
            "early_warnings": warnings["raised"], "early_warnings_came_true": warnings["came_true"],
            "top1": hits["top1"], "top3": hits["top3"], "judged": hits["cases"],
            "feedback": self.feedback_total,
        }
        open_items = [{"id": i.id, "title": i.title, "service": i.service, "severity": i.severity.value,
                       "status": i.status.value, "created_at": i.created_at.isoformat()} for i in self.opened]
        return {"figures": figures, "open": open_items,
                "rows": [{"figure": k, "value": v} for k, v in figures.items()]}


def summary(snapshot: Snapshot, *, store: Store, options: ReportOptions) -> dict[str, Any]:
    """The overview's headline figures of a whole snapshot."""
    return Summary(snapshot.scope, opened=open_incidents(store=store, service=snapshot.scope.service),
                   horizon=timedelta(hours=options.horizon_hours)).over(snapshot)


FoldFn = Callable[[ReportScope, Store, ReportOptions], Fold]

FOLDS: dict[str, FoldFn] = {
    "summary": lambda scope, store, o: Summary(scope, opened=open_incidents(store=store, service=scope.service),
                                               horizon=timedelta(hours=o.horizon_hours)),
    "incidents-per-day": lambda scope, _store, o: IncidentsPerDay(scope, group_by=o.group_by),  # type: ignore[arg-type]
    "response-times": lambda scope, _store, o: ResponseTimes(scope, bucket=o.bucket),  # type: ignore[arg-type]
    "root-causes": lambda _scope, _store, o: RootCauses(limit=o.limit),
    "early-warnings": lambda _scope, _store, o: EarlyWarnings(horizon=timedelta(hours=o.horizon_hours)),
    "hit-rate": lambda scope, _store, o: HitRates(scope, bucket=o.bucket),  # type: ignore[arg-type]
    "calibration": lambda _scope, _store, o: Calibration(bins=o.bins),
    "feedback": lambda _scope, _store, _o: FeedbackCounts(),
    "llm": lambda scope, _store, o: LlmUsage(scope, bucket=o.bucket),  # type: ignore[arg-type]
}


def build_reports(names: Sequence[str], *, store: Store, scope: ReportScope, options: ReportOptions | None = None,
                  page_size: int = PAGE_SIZE) -> dict[str, dict[str, Any]]:
    """Several named reports of one scope, computed in one paged read of its incidents (``run_folds``):
    memory holds a page of incidents, not the range. The ``incidents`` list itself is ``stream_incident_rows``
    (served streamed); here it is read whole, for the callers that want the list."""
    options = options or ReportOptions()
    out: dict[str, dict[str, Any]] = {}
    folds: dict[str, Fold] = {}
    for name in names:
        if name == "gameday":
            out[name] = {"report": name, "scope": scope.as_dict(),
                         **gameday_mod.summarize_runs(gameday_runs(store=store))}
        elif name == "incidents":
            items = list(stream_incident_rows(store=store, scope=scope, options=options, page_size=page_size))
            out[name] = {"report": name, "scope": scope.as_dict(), "total": len(items), "items": items, "rows": items}
        elif name in FOLDS:
            folds[name] = FOLDS[name](scope, store, options)
        else:
            raise InputError(f"no report {name!r}; known: {sorted(REPORT_NAMES)}")
    if folds:
        run_folds(list(folds.values()), store=store, scope=scope, horizon=timedelta(hours=options.horizon_hours),
                  q=options.q, status=options.status, page_size=page_size)
        for name, fold in folds.items():
            out[name] = {"report": name, "scope": scope.as_dict(), **fold.result()}
    return {name: out[name] for name in names}


def build_report(name: str, *, store: Store, scope: ReportScope, options: ReportOptions | None = None,
                 page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One named report as JSON-ready data with its scope; ``rows`` is its flat table (CSV export)."""
    return build_reports([name], store=store, scope=scope, options=options, page_size=page_size)[name]


REPORT_NAMES: tuple[str, ...] = ("summary", "incidents", *(n for n in FOLDS if n != "summary"), "gameday")
