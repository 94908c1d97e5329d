"""What breaks: incidents per day by category or severity, top root causes, early warnings."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from typing import Any, Literal

from bot.domain import IncidentStatus
from bot.reporting.queries import IncidentFacts, Snapshot

GroupBy = Literal["category", "severity", "service"]


def _key(facts: IncidentFacts, group_by: GroupBy) -> str:
    if group_by == "severity":
        return facts.incident.severity.value
    if group_by == "service":
        return facts.incident.service or "unknown"
    return facts.category


def incidents_per_day(snapshot: Snapshot, *, group_by: GroupBy = "category") -> dict[str, Any]:
    """Counts per UTC day and key; every day of the range is present (zero-filled)."""
    counts: Counter[tuple[str, str]] = Counter()
    for facts in snapshot.incidents:
        day = facts.incident.created_at.astimezone(UTC).date().isoformat()
        counts[(day, _key(facts, group_by))] += 1
    totals: Counter[str] = Counter()
    for (_day, key), n in counts.items():
        totals[key] += n
    keys = [k for k, _n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    days = [d.isoformat() for d in snapshot.scope.days]
    series = [{"day": d, "total": sum(counts[(d, k)] for k in keys), "counts": {k: counts[(d, k)] for k in keys}}
              for d in days]
    rows = [{"day": d, group_by: k, "count": counts[(d, k)]} for d in days for k in keys if counts[(d, k)]]
    return {"group_by": group_by, "keys": keys, "totals": dict(totals), "days": series, "rows": rows,
            "total": sum(totals.values())}


def root_causes(snapshot: Snapshot, *, limit: int = 10) -> dict[str, Any]:
    """Confirmed causes (kind and service) and, for unconfirmed incidents, Sherlog's top suggestion."""
    kinds: dict[str, Counter[str]] = {"confirmed": Counter(), "suggested": Counter()}
    services: dict[str, Counter[str]] = {"confirmed": Counter(), "suggested": Counter()}
    for facts in snapshot.incidents:
        inc = facts.incident
        if inc.confirmed_kind or inc.confirmed_service:
            if inc.confirmed_kind:
                kinds["confirmed"][inc.confirmed_kind] += 1
            if inc.confirmed_service:
                services["confirmed"][inc.confirmed_service] += 1
            continue
        answer = facts.answer
        if answer is not None and answer.top is not None:
            kinds["suggested"][answer.top.kind] += 1
            services["suggested"][answer.top.service] += 1

    def table(counter: dict[str, Counter[str]]) -> list[dict[str, Any]]:
        names = set(counter["confirmed"]) | set(counter["suggested"])
        ordered = sorted(names, key=lambda n: (-counter["confirmed"][n],
                                               -(counter["confirmed"][n] + counter["suggested"][n]), n))
        return [{"name": n, "confirmed": counter["confirmed"][n], "suggested": counter["suggested"][n],
                 "total": counter["confirmed"][n] + counter["suggested"][n]} for n in ordered[:limit]]

    kind_rows, service_rows = table(kinds), table(services)
    rows = [{"dimension": "kind", **r} for r in kind_rows] + [{"dimension": "service", **r} for r in service_rows]
    return {"kinds": kind_rows, "services": service_rows, "rows": rows}


def early_warnings(snapshot: Snapshot, *, horizon: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    """Early warnings raised, and how many came true.

    A warning came true when a real (non-warning) incident of the same service was opened within
    ``horizon`` after it, or when the warning itself was resolved with a confirmed cause.
    """
    real = [f.incident for f in [*snapshot.incidents, *snapshot.later] if not f.incident.is_early_warning]
    items: list[dict[str, Any]] = []
    for facts in snapshot.incidents:
        warning = facts.incident
        if not warning.is_early_warning:
            continue
        followed = [i for i in real if i.service == warning.service
                    and warning.created_at <= i.created_at <= warning.created_at + horizon]
        confirmed = warning.status == IncidentStatus.RESOLVED and bool(warning.confirmed_kind)
        items.append({
            "id": warning.id, "title": warning.title, "service": warning.service,
            "created_at": warning.created_at.isoformat(), "came_true": bool(followed) or confirmed,
            "followed_by": followed[0].id if followed else None,
            "lead_minutes": round((followed[0].created_at - warning.created_at).total_seconds() / 60, 1)
            if followed else None,
        })
    true_count = sum(1 for i in items if i["came_true"])
    return {"raised": len(items), "came_true": true_count,
            "precision": round(true_count / len(items), 4) if items else None,
            "horizon_hours": horizon.total_seconds() / 3600, "items": items, "rows": items}
