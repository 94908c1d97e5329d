"""Game-day results, read from the ``gameday:*`` key/value states the game-day runner writes.

The runner's format may grow; this reads what it finds: the run's scalar figures (rates, counts,
durations) and, when the run holds a list of scenario objects, one row per scenario.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

_LIST_KEYS = ("scenarios", "cases", "results", "injections", "steps")


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) or v is None}


def summarize_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for run in runs:
        data: dict[str, Any] = run["data"]
        scenarios: list[dict[str, Any]] = []
        for key in _LIST_KEYS:
            value = data.get(key)
            if isinstance(value, list) and all(isinstance(x, dict) for x in value):
                scenarios = [_scalars(x) for x in value]
                break
        updated = run["updated_at"]
        items.append({
            "key": run["key"], "name": str(data.get("name") or run["key"].split(":", 1)[-1]),
            "updated_at": updated.isoformat() if isinstance(updated, datetime) else str(updated),
            "figures": _scalars(data), "scenarios": scenarios,
        })
    rows = [{"run": i["name"], "updated_at": i["updated_at"], **i["figures"]} for i in items]
    rates = sorted({k for i in items for k, v in i["figures"].items()
                    if isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= float(v) <= 1.0})
    return {"runs": items, "rate_fields": rates, "rows": rows}
