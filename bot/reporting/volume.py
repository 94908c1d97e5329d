"""What breaks: incidents per day by category or severity, top root causes, early warnings."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.domain import Incident, IncidentStatus
from bot.reporting.fold import Fold
from bot.reporting.queries import IncidentFacts, Snapshot
from bot.reporting.scope import ReportScope

GroupBy = Literal["category", "severity", "service"]


def _key(facts: IncidentFacts, group_by: GroupBy) -> str:
    if group_by == "severity":
        return facts.incident.severity.value
    if group_by == "service":
        return facts.incident.service or "unknown"
    return facts.category


class IncidentsPerDay(Fold):
    """Counts per UTC day and key; every day of the range is present (zero-filled)."""

    def __init__(self, scope: ReportScope, *, group_by: GroupBy = "category") -> None:
        self.scope, self.group_by = scope, group_by
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, facts: IncidentFacts) -> None:
        day = facts.incident.created_at.astimezone(UTC).date().isoformat()
        self.counts[(day, _key(facts, self.group_by))] += 1

    def result(self) -> dict[str, Any]:
        counts, group_by = self.counts, self.group_by
        totals: Counter[str] = Counter()
        for (_day, key), n in counts.items():
            totals[key] += n
        keys = [k for k, _n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
        days = [d.isoformat() for d in self.scope.days]
        series = [{"day": d, "total": sum(counts[(d, k)] for k in keys), "counts": {k: counts[(d, k)] for k in keys}}
                  for d in days]
        rows = [{"day": d, group_by: k, "count": counts[(d, k)]} for d in days for k in keys if counts[(d, k)]]
        return {"group_by": group_by, "keys": keys, "totals": dict(totals), "days": series, "rows": rows,
                "total": sum(totals.values())}


def incidents_per_day(snapshot: Snapshot, *, group_by: GroupBy = "category") -> dict[str, Any]:
    """Counts per UTC day and key; every day of the range is present (zero-filled)."""
    return IncidentsPerDay(snapshot.scope, group_by=group_by).over(snapshot)


class RootCauses(Fold):
    """Confirmed causes (kind and service) and, for unconfirmed incidents, Sherlog's top suggestion."""

    def __init__(self, *, limit: int = 10) -> None:
        self.limit = limit
        self.kinds: dict[str, Counter[str]] = {"confirmed": Counter(), "suggested": Counter()}
        self.services: dict[str, Counter[str]] = {"confirmed": Counter(), "suggested": Counter()}

    def add(self, facts: IncidentFacts) -> None:
        inc = facts.incident
        if inc.confirmed_kind or inc.confirmed_service:
            if inc.confirmed_kind:
                self.kinds["confirmed"][inc.confirmed_kind] += 1
            if inc.confirmed_service:
                self.services["confirmed"][inc.confirmed_service] += 1
            return
        answer = facts.answer
        if answer is not None and answer.top is not None:
            self.kinds["suggested"][answer.top.kind] += 1
            self.services["suggested"][answer.top.service] += 1

    def result(self) -> dict[str, Any]:
        def table(counter: dict[str, Counter[str]]) -> list[dict[str, Any]]:
            names = set(counter["confirmed"]) | set(counter["suggested"])
            ordered = sorted(names, key=lambda n: (-counter["confirmed"][n],
                                                   -(counter["confirmed"][n] + counter["suggested"][n]), n))
            return [{"name": n, "confirmed": counter["confirmed"][n], "suggested": counter["suggested"][n],
                     "total": counter["confirmed"][n] + counter["suggested"][n]} for n in ordered[: self.limit]]

        kind_rows, service_rows = table(self.kinds), table(self.services)
        rows = [{"dimension": "kind", **r} for r in kind_rows] + [{"dimension": "service", **r} for r in service_rows]
        return {"kinds": kind_rows, "services": service_rows, "rows": rows}


def root_causes(snapshot: Snapshot, *, limit: int = 10) -> dict[str, Any]:
    """Confirmed causes (kind and service) and, for unconfirmed incidents, Sherlog's top suggestion."""
    return RootCauses(limit=limit).over(snapshot)


class EarlyWarnings(Fold):
    """Early warnings raised, and how many came true.

    A warning came true when a real (non-warning) incident of the same service was opened within
    ``horizon`` after it (the first such incident is its follower), or when the warning itself was resolved
    with a confirmed cause. Fed oldest first, it keeps the warnings whose horizon is still open (and the
    real incidents of the current instant: one opened at the same instant as a warning follows it).
    """

    later = True

    def __init__(self, *, horizon: timedelta = timedelta(hours=24)) -> None:
        self.horizon = horizon
        self.items: list[dict[str, Any]] = []
        self._waiting: list[tuple[Incident, dict[str, Any]]] = []  # warnings without a follower yet
        self._instant: datetime | None = None
        self._real_now: list[Incident] = []  # real incidents opened at ``_instant``

    def add(self, facts: IncidentFacts) -> None:
        self._see(facts.incident, inside=True)

    def add_later(self, facts: IncidentFacts) -> None:
        self._see(facts.incident, inside=False)

    @staticmethod
    def _follow(item: dict[str, Any], warning: Incident, real: Incident) -> None:
        item["followed_by"] = real.id
        item["lead_minutes"] = round((real.created_at - warning.created_at).total_seconds() / 60, 1)

    def _see(self, inc: Incident, *, inside: bool) -> None:
        if inc.created_at != self._instant:
            self._instant, self._real_now = inc.created_at, []
        if inc.is_early_warning:
            if not inside:
                return
            item: dict[str, Any] = {
                "id": inc.id, "title": inc.title, "service": inc.service, "created_at": inc.created_at.isoformat(),
                "came_true": inc.status == IncidentStatus.RESOLVED and bool(inc.confirmed_kind),
                "followed_by": None, "lead_minutes": None,
            }
            self.items.append(item)
            same = next((r for r in self._real_now if r.service == inc.service), None)
            if same is not None:
                self._follow(item, inc, same)
            else:
                self._waiting.append((inc, item))
            return
        self._real_now.append(inc)
        still: list[tuple[Incident, dict[str, Any]]] = []
        for warning, item in self._waiting:
            if inc.created_at > warning.created_at + self.horizon:
                continue  # its horizon is over: no follower
            if inc.service == warning.service:
                self._follow(item, warning, inc)
            else:
                still.append((warning, item))
        self._waiting = still

    def result(self) -> dict[str, Any]:
        items = [{**i, "came_true": bool(i["followed_by"]) or i["came_true"]} for i in self.items]
        true_count = sum(1 for i in items if i["came_true"])
        return {"raised": len(items), "came_true": true_count,
                "precision": round(true_count / len(items), 4) if items else None,
                "horizon_hours": self.horizon.total_seconds() / 3600, "items": items, "rows": items}


def early_warnings(snapshot: Snapshot, *, horizon: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    """Early warnings raised, and how many came true (``EarlyWarnings``)."""
    return EarlyWarnings(horizon=horizon).over(snapshot)
