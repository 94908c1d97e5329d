"""Game-day results, read from the ``gameday:<id>`` key/value states of the game-day engine
(``bot/simulation/gameday.py``): one record per game with its scenario, diagnoses and result.

Pointer keys (``gameday:index``, ``gameday:active:<channel>``) are skipped. A record in another
shape is still shown: its scalar figures, and the first list of objects as its rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.reporting.stats import percentile

_LIST_KEYS = ("diagnoses", "scenarios", "cases", "results", "injections", "steps")


def is_game_key(key: str) -> bool:
    return key.startswith("gameday:") and key != "gameday:index" and not key.startswith("gameday:active:")


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool) or v is None}


def _game(data: dict[str, Any]) -> dict[str, Any]:
    """Figures of one game of the game-day engine."""
    scenario = data.get("scenario") or {}
    result = data.get("result") or {}
    diagnoses = [d for d in data.get("diagnoses") or [] if isinstance(d, dict)]
    seconds = result.get("time_to_diagnosis_s")
    figures: dict[str, Any] = {
        "status": data.get("status"), "started_at": str(data.get("started_at") or "")[:16].replace("T", " ") or None, "started_by": data.get("started_by"),
        "scenario": scenario.get("name"), "difficulty": scenario.get("difficulty"),
        "alert_service": (data.get("alert") or {}).get("service"),
        "root_cause": f"{result['root_cause_kind']} in {result['root_cause_service']}"
        if result.get("root_cause_kind") else None,
        "solved": result.get("solved"), "winner": result.get("winner"),
        "minutes_to_diagnosis": round(seconds / 60, 1) if isinstance(seconds, int | float) else None,
        "questions": len(data.get("questions") or []), "diagnoses": len(diagnoses),
        "score": round(float(result.get("best_points") or 0) / 100, 3) if result else None,
        "correct_diagnoses": round(sum(1 for d in diagnoses if d.get("correct")) / len(diagnoses), 3)
        if diagnoses else None,
    }
    rows = [{"user": d.get("user"), "service": d.get("service"), "kind": d.get("kind"), "correct": d.get("correct"),
             "minutes": round(float(d.get("seconds") or 0) / 60, 1), "questions": d.get("questions"),
             "points": d.get("points")} for d in diagnoses]
    return {"figures": figures, "scenarios": rows}


def _generic(data: dict[str, Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for key in _LIST_KEYS:
        value = data.get(key)
        if isinstance(value, list) and all(isinstance(x, dict) for x in value):
            rows = [_scalars(x) for x in value]
            break
    return {"figures": _scalars(data), "scenarios": rows}


def summarize_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for run in runs:
        if not is_game_key(run["key"]):
            continue
        data: dict[str, Any] = run["data"]
        engine_game = isinstance(data.get("scenario"), dict) and "diagnoses" in data
        body = _game(data) if engine_game else _generic(data)
        updated = run["updated_at"]
        started = str(data.get("started_at") or "")[:10]
        name = (f"{data['scenario'].get('name')} {started}".strip() if engine_game
                else str(data.get("name") or run["key"].split(":", 1)[-1]))
        items.append({"key": run["key"], "id": data.get("id") or run["key"].split(":", 1)[-1], "name": name,
                      "updated_at": updated.isoformat() if isinstance(updated, datetime) else str(updated), **body})
    rows = [{"run": i["name"], "updated_at": i["updated_at"], **i["figures"]} for i in items]
    rates = sorted({k for i in items for k, v in i["figures"].items()
                    if isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= float(v) <= 1.0
                    and k not in ("questions", "diagnoses")})
    ended = [i for i in items if i["figures"].get("solved") is not None]
    minutes = [float(i["figures"]["minutes_to_diagnosis"]) for i in items
               if isinstance(i["figures"].get("minutes_to_diagnosis"), int | float)]
    return {"runs": items, "rate_fields": rates, "rows": rows, "games": len(items),
            "solved": sum(1 for i in ended if i["figures"]["solved"]),
            "solve_rate": round(sum(1 for i in ended if i["figures"]["solved"]) / len(ended), 4) if ended else None,
            "median_minutes_to_diagnosis": percentile(minutes, 50)}
