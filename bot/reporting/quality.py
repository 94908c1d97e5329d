"""Whether Sherlog's answers are right: hit rates against confirmed causes, calibration, feedback,
and what the LLM costs.

An incident counts for answer quality when it has a confirmed service and kind and an analysis.
Its answer is the latest analysis made before resolution. A hypothesis is a hit when its service and
kind both equal the confirmed ones (compared case-insensitively); top-1 looks at the first
hypothesis, top-3 at the first three (ARCHITECTURE.md, AC@k).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from bot.domain import Analysis, Incident
from bot.reporting.queries import IncidentFacts, Snapshot
from bot.reporting.stats import Bucket, auto_bucket, bucket_range, bucket_start, describe


def _norm(value: str | None) -> str:
    return (value or "").strip().lower()


def hit_rank(incident: Incident, analysis: Analysis) -> int | None:
    """1-based rank of the first hypothesis matching the confirmed cause, ``None`` when none does."""
    service, kind = _norm(incident.confirmed_service), _norm(incident.confirmed_kind)
    for i, hyp in enumerate(analysis.hypotheses, start=1):
        if _norm(hyp.service) == service and _norm(hyp.kind) == kind:
            return i
    return None


def _judged(snapshot: Snapshot) -> list[tuple[IncidentFacts, Analysis, int | None]]:
    out = []
    for facts in snapshot.incidents:
        inc = facts.incident
        answer = facts.answer
        if inc.confirmed_service and inc.confirmed_kind and answer is not None:
            out.append((facts, answer, hit_rank(inc, answer)))
    return out


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def hit_rates(snapshot: Snapshot, *, bucket: Bucket | None = None) -> dict[str, Any]:
    """Top-1/top-3 hit rates overall and per bucket (weekly past two weeks: a day holds too few cases)."""
    scope = snapshot.scope
    size: Bucket = bucket or ("day" if scope.until - scope.since <= timedelta(days=14) else "week")
    judged = _judged(snapshot)
    per: dict[str, list[int | None]] = defaultdict(list)
    for facts, _answer, rank in judged:
        per[bucket_start(facts.incident.created_at, size).isoformat()].append(rank)
    trend = []
    for start in bucket_range(scope.since, scope.until, size):
        ranks = per.get(start.isoformat(), [])
        n = len(ranks)
        top1 = sum(1 for r in ranks if r == 1)
        top3 = sum(1 for r in ranks if r is not None and r <= 3)
        trend.append({"bucket": start.isoformat(), "cases": n, "top1": _rate(top1, n), "top3": _rate(top3, n),
                      "top1_hits": top1, "top3_hits": top3})
    n = len(judged)
    top1 = sum(1 for _f, _a, r in judged if r == 1)
    top3 = sum(1 for _f, _a, r in judged if r is not None and r <= 3)
    return {"bucket": size, "cases": n, "top1": _rate(top1, n), "top3": _rate(top3, n), "top1_hits": top1,
            "top3_hits": top3, "trend": trend, "rows": trend}


def calibration(snapshot: Snapshot, *, bins: int = 10) -> dict[str, Any]:
    """Top-hypothesis confidence against top-1 correctness, in ``bins`` equal-width bins; ECE and Brier."""
    pairs = [(a.top.confidence, 1.0 if r == 1 else 0.0) for _f, a, r in _judged(snapshot) if a.top is not None]
    table: list[dict[str, Any]] = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, y) for c, y in pairs if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        table.append({"bin": b, "low": round(lo, 4), "high": round(hi, 4), "count": len(inside),
                      "mean_confidence": round(sum(c for c, _y in inside) / len(inside), 4) if inside else None,
                      "accuracy": round(sum(y for _c, y in inside) / len(inside), 4) if inside else None})
    n = len(pairs)
    ece = sum(r["count"] / n * abs(r["mean_confidence"] - r["accuracy"]) for r in table if r["count"]) if n else None
    brier = sum((c - y) ** 2 for c, y in pairs) / n if n else None
    return {"cases": n, "bins": table, "ece": None if ece is None else round(ece, 4),
            "brier": None if brier is None else round(brier, 4), "rows": table}


def feedback_counts(snapshot: Snapshot) -> dict[str, Any]:
    votes = Counter(f.vote.value for f in snapshot.feedback)
    surfaces = Counter(f.surface for f in snapshot.feedback)
    up, down = votes.get("up", 0), votes.get("down", 0)
    rows = [{"dimension": "vote", "name": k, "count": votes.get(k, 0)} for k in ("up", "down", "fixed", "viewed")]
    rows += [{"dimension": "surface", "name": k, "count": v} for k, v in sorted(surfaces.items())]
    return {"total": len(snapshot.feedback), "votes": {k: votes.get(k, 0) for k in ("up", "down", "fixed", "viewed")},
            "surfaces": dict(sorted(surfaces.items())), "helpful_share": _rate(up, up + down),
            "incidents_with_feedback": len({f.incident_id for f in snapshot.feedback}), "rows": rows}


def llm_usage(snapshot: Snapshot, *, bucket: Bucket | None = None) -> dict[str, Any]:
    """LLM calls recorded in ``analysis.llm`` (every analysis in scope, not only the answer)."""
    scope = snapshot.scope
    size: Bucket = bucket or auto_bucket(scope.since, scope.until)
    calls = [a for f in snapshot.incidents for a in f.analyses if a.llm]
    used = [a for a in calls if a.llm.get("used")]
    fallbacks = Counter(str(a.llm.get("fallback_reason", "unknown")).split(":")[0] for a in calls
                        if not a.llm.get("used"))
    latencies = [float(a.llm["latency_ms"]) for a in calls if isinstance(a.llm.get("latency_ms"), int | float)]
    costs = [float(a.llm.get("cost_usd") or 0.0) for a in calls]
    per_cost: dict[str, float] = defaultdict(float)
    per_lat: dict[str, list[float]] = defaultdict(list)
    per_n: Counter[str] = Counter()
    for a in calls:
        key = bucket_start(a.created_at, size).isoformat()
        per_n[key] += 1
        per_cost[key] += float(a.llm.get("cost_usd") or 0.0)
        if isinstance(a.llm.get("latency_ms"), int | float):
            per_lat[key].append(float(a.llm["latency_ms"]))
    trend = []
    for start in bucket_range(scope.since, scope.until, size):
        key = start.isoformat()
        lat = describe(per_lat.get(key, []))
        trend.append({"bucket": key, "calls": per_n[key], "cost_usd": round(per_cost[key], 6),
                      "latency_p50_ms": lat["p50"], "latency_p95_ms": lat["p95"]})
    analysis_ms = [float(a.timings_ms["total"]) for f in snapshot.incidents for a in f.analyses
                   if "total" in a.timings_ms]
    return {
        "calls": len(calls), "used": len(used), "fallbacks": dict(fallbacks),
        "prompt_tokens": sum(int(a.llm.get("prompt_tokens") or 0) for a in calls),
        "completion_tokens": sum(int(a.llm.get("completion_tokens") or 0) for a in calls),
        "cost_usd": round(sum(costs), 6), "cost_per_call_usd": round(sum(costs) / len(calls), 6) if calls else None,
        "latency_ms": describe(latencies), "analysis_ms": describe(analysis_ms), "bucket": size,
        "trend": trend, "rows": trend,
    }
