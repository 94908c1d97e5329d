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
from bot.reporting.fold import Fold
from bot.reporting.queries import FeedbackTally, IncidentFacts, Snapshot
from bot.reporting.scope import ReportScope
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


def _judge(facts: IncidentFacts) -> tuple[Analysis, int | None] | None:
    """The answer of an incident that counts for answer quality and its hit rank, else ``None``."""
    inc = facts.incident
    answer = facts.answer
    if inc.confirmed_service and inc.confirmed_kind and answer is not None:
        return answer, hit_rank(inc, answer)
    return None


def _rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


class HitRates(Fold):
    """Top-1/top-3 hit rates overall and per bucket (weekly past two weeks: a day holds too few cases)."""

    def __init__(self, scope: ReportScope, *, bucket: Bucket | None = None) -> None:
        self.scope = scope
        self.size: Bucket = bucket or ("day" if scope.until - scope.since <= timedelta(days=14) else "week")
        self.per: dict[str, Counter[str]] = defaultdict(Counter)  # bucket -> cases, top1, top3

    def add(self, facts: IncidentFacts) -> None:
        judged = _judge(facts)
        if judged is None:
            return
        rank = judged[1]
        tally = self.per[bucket_start(facts.incident.created_at, self.size).isoformat()]
        tally["cases"] += 1
        tally["top1"] += rank == 1
        tally["top3"] += rank is not None and rank <= 3

    def result(self) -> dict[str, Any]:
        trend = []
        for start in bucket_range(self.scope.since, self.scope.until, self.size):
            tally = self.per.get(start.isoformat(), Counter())
            n, top1, top3 = tally["cases"], tally["top1"], tally["top3"]
            trend.append({"bucket": start.isoformat(), "cases": n, "top1": _rate(top1, n), "top3": _rate(top3, n),
                          "top1_hits": top1, "top3_hits": top3})
        n = sum(t["cases"] for t in self.per.values())
        top1 = sum(t["top1"] for t in self.per.values())
        top3 = sum(t["top3"] for t in self.per.values())
        return {"bucket": self.size, "cases": n, "top1": _rate(top1, n), "top3": _rate(top3, n), "top1_hits": top1,
                "top3_hits": top3, "trend": trend, "rows": trend}


def hit_rates(snapshot: Snapshot, *, bucket: Bucket | None = None) -> dict[str, Any]:
    """Top-1/top-3 hit rates overall and per bucket (``HitRates``)."""
    return HitRates(snapshot.scope, bucket=bucket).over(snapshot)


class Calibration(Fold):
    """Top-hypothesis confidence against top-1 correctness, in ``bins`` equal-width bins; ECE and Brier.
    Sums are kept per bin, in the order the incidents come."""

    def __init__(self, *, bins: int = 10) -> None:
        self.bins = bins
        self.count = [0] * bins
        self.sum_conf: list[float] = [0] * bins
        self.sum_hit: list[float] = [0] * bins
        self.n = 0
        self.brier: float = 0

    def add(self, facts: IncidentFacts) -> None:
        judged = _judge(facts)
        if judged is None or judged[0].top is None:
            return
        c, y = judged[0].top.confidence, 1.0 if judged[1] == 1 else 0.0
        self.n += 1
        self.brier += (c - y) ** 2
        for b in range(self.bins):
            lo, hi = b / self.bins, (b + 1) / self.bins
            if lo <= c < hi or (b == self.bins - 1 and c == 1.0):
                self.count[b] += 1
                self.sum_conf[b] += c
                self.sum_hit[b] += y

    def result(self) -> dict[str, Any]:
        table: list[dict[str, Any]] = []
        for b in range(self.bins):
            lo, hi = b / self.bins, (b + 1) / self.bins
            k = self.count[b]
            table.append({"bin": b, "low": round(lo, 4), "high": round(hi, 4), "count": k,
                          "mean_confidence": round(self.sum_conf[b] / k, 4) if k else None,
                          "accuracy": round(self.sum_hit[b] / k, 4) if k else None})
        n = self.n
        ece = sum(r["count"] / n * abs(r["mean_confidence"] - r["accuracy"]) for r in table if r["count"]) if n else None
        brier = self.brier / n if n else None
        return {"cases": n, "bins": table, "ece": None if ece is None else round(ece, 4),
                "brier": None if brier is None else round(brier, 4), "rows": table}


def calibration(snapshot: Snapshot, *, bins: int = 10) -> dict[str, Any]:
    """Top-hypothesis confidence against top-1 correctness (``Calibration``)."""
    return Calibration(bins=bins).over(snapshot)


class FeedbackCounts(Fold):
    """Votes and surfaces of the feedback on the scope's incidents, counted in the database."""

    feedback = True

    def __init__(self) -> None:
        self.tally = FeedbackTally()

    def add_feedback(self, tally: FeedbackTally) -> None:
        self.tally.add(tally)

    def result(self) -> dict[str, Any]:
        votes, surfaces = self.tally.votes, self.tally.surfaces
        up, down = votes.get("up", 0), votes.get("down", 0)
        rows = [{"dimension": "vote", "name": k, "count": votes.get(k, 0)} for k in ("up", "down", "fixed", "viewed")]
        rows += [{"dimension": "surface", "name": k, "count": v} for k, v in sorted(surfaces.items())]
        return {"total": self.tally.total, "votes": {k: votes.get(k, 0) for k in ("up", "down", "fixed", "viewed")},
                "surfaces": dict(sorted(surfaces.items())), "helpful_share": _rate(up, up + down),
                "incidents_with_feedback": self.tally.incidents, "rows": rows}


def feedback_counts(snapshot: Snapshot) -> dict[str, Any]:
    return FeedbackCounts().over(snapshot)


class LlmUsage(Fold):
    """LLM calls recorded in ``analysis.llm`` (every analysis in scope, not only the answer)."""

    def __init__(self, scope: ReportScope, *, bucket: Bucket | None = None) -> None:
        self.scope = scope
        self.size: Bucket = bucket or auto_bucket(scope.since, scope.until)
        self.calls = 0
        self.used = 0
        self.fallbacks: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.cost: float = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.per_cost: dict[str, float] = defaultdict(float)
        self.per_lat: dict[str, list[float]] = defaultdict(list)
        self.per_n: Counter[str] = Counter()
        self.analysis_ms: list[float] = []

    def add(self, facts: IncidentFacts) -> None:
        for a in facts.analyses:
            if "total" in a.timings_ms:
                self.analysis_ms.append(float(a.timings_ms["total"]))
            if not a.llm:
                continue
            self.calls += 1
            if a.llm.get("used"):
                self.used += 1
            else:
                self.fallbacks[str(a.llm.get("fallback_reason", "unknown")).split(":")[0]] += 1
            latency = a.llm.get("latency_ms")
            if isinstance(latency, int | float):
                self.latencies.append(float(latency))
            cost = float(a.llm.get("cost_usd") or 0.0)
            self.cost += cost
            self.prompt_tokens += int(a.llm.get("prompt_tokens") or 0)
            self.completion_tokens += int(a.llm.get("completion_tokens") or 0)
            key = bucket_start(a.created_at, self.size).isoformat()
            self.per_n[key] += 1
            self.per_cost[key] += cost
            if isinstance(latency, int | float):
                self.per_lat[key].append(float(latency))

    def result(self) -> dict[str, Any]:
        trend = []
        for start in bucket_range(self.scope.since, self.scope.until, self.size):
            key = start.isoformat()
            lat = describe(self.per_lat.get(key, []))
            trend.append({"bucket": key, "calls": self.per_n[key], "cost_usd": round(self.per_cost[key], 6),
                          "latency_p50_ms": lat["p50"], "latency_p95_ms": lat["p95"]})
        calls = self.calls
        return {
            "calls": calls, "used": self.used, "fallbacks": dict(self.fallbacks),
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "cost_usd": round(self.cost, 6), "cost_per_call_usd": round(self.cost / calls, 6) if calls else None,
            "latency_ms": describe(self.latencies), "analysis_ms": describe(self.analysis_ms), "bucket": self.size,
            "trend": trend, "rows": trend,
        }


def llm_usage(snapshot: Snapshot, *, bucket: Bucket | None = None) -> dict[str, Any]:
    """LLM calls recorded in ``analysis.llm`` (``LlmUsage``)."""
    return LlmUsage(snapshot.scope, bucket=bucket).over(snapshot)
