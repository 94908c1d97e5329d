"""Metric signals for one analysis: which series changed, when, how much, and what that points at.

For each series: clean it (``prepare``), find the best level change before (or shortly after) the
alert, measure it robustly against the earlier segment (median/MAD), read the shape (step, steady
ramp, drop after a high, plateau at the maximum) and map the metric name + direction + shape to a
vocabulary kind. Scores are calibrated from the robust z (``anomaly_score``) and then weighted by how
early the change came compared with the other anomalous series (the earliest change is the most
likely origin), and lowered for a service whose own dependency changed earlier (topology).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from bot.domain.models import Evidence, EvidenceType, MetricSeries, Signal
from detectors.metrics.changepoint import (
    Shift,
    best_hinge,
    best_mean_shift,
    linear_fit,
    noise_sd,
    robust_shift,
)
from detectors.metrics.kinds import bad_directions, kind_for, normalise_name, rule_for
from detectors.metrics.prepare import prepare

logger = logging.getLogger(__name__)

Z_HALF = 4.0  # robust z at which the anomaly score is 0.5
RAMP_FAMILIES = frozenset({"memory", "disk", "pool", "queue", "db", "threads"})  # leaks and fills
CAPACITY_FAMILIES = frozenset({"disk", "pool", "threads", "memory"})  # causes only once near their limit
LIMIT_SUFFIX = re.compile(r"_(max|limit|capacity|size_bytes|total_bytes)$")
NEAR_LIMIT = (0.80, 0.95)  # share of the limit: no credit at the first, full credit at the second
SOON_H = (0.5, 2.0)  # hours to the limit at the current slope: full credit at the first, none at the second
RECENT_S = 600.0  # a change this close to the alert (or 10% of the window, if longer) is "at the incident"


def anomaly_score(z: float) -> float:
    """Map a robust z to [0, 1): 4 -> 0.5, 8 -> 0.8, 12 -> 0.9. Monotone, scale-free."""
    z2 = z * z
    return z2 / (z2 + Z_HALF * Z_HALF)


@dataclass
class _Finding:
    series: MetricSeries
    shift: Shift
    change_ts: float
    kind: str
    shape: str
    z: float
    anomaly: float
    slope_per_h: float
    level: float = 0.0  # the series' value at the alert (or its end)
    span_s: float = 0.0
    end_ts: float = 0.0


def _drop_after_high(y: np.ndarray, shift: Shift) -> float:
    """z of a sharp fall from the series' highs (a restart after OOM), 0 when it is not one."""
    i = shift.index
    if shift.direction > 0 or i < 3:
        return 0.0
    k = min(10, i)
    last_before = float(np.median(y[i - k : i]))
    if last_before < float(np.percentile(y, 90)):
        return 0.0
    z_drop = (last_before - shift.after) / noise_sd(y[:i], last_before)
    return z_drop if z_drop > 6 else 0.0


def _step_sse(y: np.ndarray, index: int) -> float:
    a, b = y[:index], y[index:]
    return float(np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2))


def _analyse(series: MetricSeries, alert_ts: float | None, min_points: int) -> _Finding | None:
    p = prepare(series)
    t, y = p.t, p.y
    if y.size < min_points or float(np.ptp(y)) == 0.0:
        return None
    rule = rule_for(series.metric)
    if rule is not None and rule.family == "limit":
        return None
    last = None
    if alert_ts is not None:
        # a cause changes before the alert; allow a little slack after it (scrape delay)
        slack = max(120.0, 0.05 * float(t[-1] - t[0]))
        last = int(np.searchsorted(t, alert_ts + slack, side="right"))
    min_size = max(2, min(5, y.size // 8))
    idx = best_mean_shift(y, min_size=min_size, last=last)
    if idx is None:
        return None
    shift = robust_shift(y, idx)
    allowed = bad_directions(series.metric)
    slope_per_h = linear_fit(t, y)[0] * 3600.0
    change_ts = float(t[idx])
    shape, direction = "step", shift.direction
    z = max(abs(shift.z_level), 0.5 * abs(shift.z_peak))
    before, after = shift.before, shift.after
    z_drop = _drop_after_high(y, shift) if rule is not None and rule.family == "memory" else 0.0
    ramp_prone = rule is not None and rule.family in RAMP_FAMILIES
    hinge = best_hinge(t, y, min_size=max(min_size, 5), last=last) if ramp_prone or z >= 2.0 else None
    if z_drop > 0:
        shape, z, allowed = "drop_after_high", max(z, z_drop), (*allowed, -1)
    elif hinge is not None and hinge.gain >= 0.3 and hinge.slope_change != 0.0:
        end = float(t[-1])
        extra = hinge.slope_change * (end - float(t[hinge.index]))
        noise = max(hinge.resid_sd, noise_sd(y, float(np.median(y))))
        resid = y - np.interp(t, [t[0], t[hinge.index], end], [0.0, 0.0, extra])
        sse_hinge = float(np.sum((resid - np.polyval(np.polyfit(t - t[0], resid, 1), t - t[0])) ** 2))
        if sse_hinge < 0.8 * _step_sse(y, idx):  # a bend explains the series better than a step
            shape, direction = "ramp", 1 if extra > 0 else -1
            z = 0.5 * abs(extra) / noise
            change_ts = float(t[hinge.index])
            before, after = float(np.median(y[max(0, hinge.index - 5) : hinge.index + 1])), float(y[-1])
            slope_per_h = (hinge.slope_before + hinge.slope_change) * 3600.0
    if shape == "step" and direction > 0 and y.size - idx >= 3:
        top = float(y.max())
        tail = y[idx:]
        if top > 0 and float(np.median(tail)) >= 0.97 * top and float(np.std(tail)) <= 0.02 * abs(top):
            shape = "plateau_at_max"
    if direction not in allowed:
        return None
    kind = kind_for(series.metric, direction=direction, shape=shape)
    if kind is None:
        return None
    shift = Shift(shift.index, before, after, shift.scale, shift.z_level, shift.z_peak, direction)
    at = y.size if last is None else max(1, min(last, y.size))
    level = float(np.median(y[max(0, at - 3) : at]))
    span = float(t[-1] - t[0])
    return _Finding(
        series, shift, change_ts, kind, shape, z, anomaly_score(z), slope_per_h, level, span, float(t[-1])
    )


def _limits(series: list[MetricSeries]) -> dict[tuple[str, str], float]:
    """(service, resource stem) -> the latest value of a limit series (``db_connections_max`` -> 20)."""
    out: dict[tuple[str, str], float] = {}
    for s in series:
        rule = rule_for(s.metric)
        if rule is None or rule.family != "limit":
            continue
        vals = [v for v in s.values if v is not None and math.isfinite(v) and v > 0]
        if vals:
            out[(s.service, LIMIT_SUFFIX.sub("", normalise_name(s.metric)))] = float(vals[-1])
    return out


def _limit_of(f: _Finding, limits: dict[tuple[str, str], float]) -> float | None:
    return _series_limit(f.series, limits)


def _series_limit(series: MetricSeries, limits: dict[tuple[str, str], float]) -> float | None:
    """The value at which the resource is exhausted: a limit series of the same service and resource,
    1 for a ratio/fraction, 100 for a percentage; None when unknown."""
    name = normalise_name(series.metric)
    best: tuple[int, float] | None = None
    for (svc, stem), value in limits.items():
        if (
            svc == series.service
            and stem
            and name.startswith(stem)
            and (best is None or len(stem) > best[0])
        ):
            best = (len(stem), value)
    if best is not None:
        return best[1]
    top = max((v for v in series.values if v is not None and math.isfinite(v)), default=math.inf)
    if re.search(r"ratio|fraction", name) and top <= 1.0:
        return 1.0
    if re.search(r"percent|pct", name) and top <= 100.0:
        return 100.0
    return None


def _capacity_factor(f: _Finding, limit: float, alert_ts: float | None) -> float:
    """1 when an exhaustion kind is really at its limit, about to hit it, or changed at the incident;
    falls to 0 for a resource far from its limit that was already on its way well before the alert."""
    util = f.level / limit
    near = min(max((util - NEAR_LIMIT[0]) / (NEAR_LIMIT[1] - NEAR_LIMIT[0]), 0.0), 1.0)
    soon = 0.0
    if f.slope_per_h > 0:
        hours = max(limit - f.level, 0.0) / f.slope_per_h
        lo, hi = SOON_H
        soon = 1.0 if hours <= lo else max(0.0, math.log(hi / hours) / math.log(hi / lo))
    ref = alert_ts if alert_ts is not None else f.end_ts
    recent = 1.0 if f.change_ts >= ref - max(RECENT_S, 0.1 * f.span_s) else 0.0
    return max(near, soon, recent)


# (family of a finding, family of another finding on the same service, kind the first one becomes)
COMBINATIONS: tuple[tuple[str, str, str], ...] = (
    ("memory", "restarts", "oom_kill"),  # memory high and the process restarting: killed for memory
)


def _combine(findings: list[_Finding]) -> None:
    """Relabel findings whose meaning depends on another series of the same service."""
    families: dict[str, set[str]] = {}
    for f in findings:
        rule = rule_for(f.series.metric)
        if rule is not None:
            families.setdefault(f.series.service, set()).add(rule.family)
    for f in findings:
        rule = rule_for(f.series.metric)
        if rule is None:
            continue
        for fam, other, kind in COMBINATIONS:
            if rule.family == fam and other in families.get(f.series.service, set()):
                f.kind = kind


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.3g}"
    return f"{v:.3g}"


def detect_metric_signals(
    series: list[MetricSeries],
    *,
    alert_time: datetime | None = None,
    topology: dict[str, list[str]] | None = None,
    min_score: float = 0.5,
    min_points: int = 6,
) -> list[Signal]:
    """Signals for the series that changed abnormally, best first. Never raises on odd data."""
    alert_ts = alert_time.timestamp() if alert_time is not None else None
    findings: list[_Finding] = []
    for s in series:
        try:
            f = _analyse(s, alert_ts, min_points)
        except (ValueError, FloatingPointError):
            logger.warning("metric series skipped", extra={"service": s.service, "metric": s.metric})
            continue
        if f is not None and f.anomaly >= min_score:
            findings.append(f)
    limits = _limits(series)
    if not findings:
        return sorted(_at_limit_signals(series, limits, alert_ts, seen=set()), key=lambda sig: -sig.score)
    _combine(findings)
    for f in findings:
        rule = rule_for(f.series.metric)
        if rule is None or rule.family not in CAPACITY_FAMILIES or f.shift.direction < 0:
            continue
        limit = _limit_of(f, limits)
        if limit is not None and limit > 0:
            f.anomaly *= 0.3 + 0.7 * _capacity_factor(f, limit, alert_ts)
    findings = [f for f in findings if f.anomaly >= min_score]
    at_limit = _at_limit_signals(series, limits, alert_ts, seen={(f.series.service, f.series.metric) for f in findings})
    if not findings:
        return sorted(at_limit, key=lambda sig: -sig.score)
    times = np.array([f.change_ts for f in findings])
    order = times.argsort().argsort()  # 0 = earliest
    n = len(findings)
    first_change: dict[str, float] = {}
    for f in findings:
        svc = f.series.service
        first_change[svc] = min(first_change.get(svc, f.change_ts), f.change_ts)
    signals: list[Signal] = []
    for f, rank in zip(findings, order, strict=True):
        earliness = 1.0 - rank / (n - 1) if n > 1 else 1.0
        score = f.anomaly * (0.8 + 0.2 * earliness)
        svc = f.series.service
        victim_of: list[str] = []
        for dep in (topology or {}).get(svc, []):
            if dep in first_change and first_change[dep] <= f.change_ts:
                victim_of.append(dep)
        if victim_of:
            score *= 0.9
        signals.append(_to_signal(f, min(max(score, 0.0), 1.0), earliness, victim_of))
    signals.extend(at_limit)
    signals.sort(key=lambda s: (-s.score, s.started_at or datetime.max.replace(tzinfo=UTC)))
    return signals


AT_LIMIT = 0.97  # share of the limit at which an exhaustible resource counts as exhausted


def _at_limit_signals(
    series: list[MetricSeries], limits: dict[tuple[str, str], float], alert_ts: float | None,
    *, seen: set[tuple[str, str]],
) -> list[Signal]:
    """Exhaustible resources (disk, pools, threads, memory) sitting at their limit at the alert, even when
    they got there gradually and no change point stands out: a full disk is evidence however it filled."""
    out: list[Signal] = []
    for s in series:
        rule = rule_for(s.metric)
        if (s.service, s.metric) in seen or rule is None or rule.family not in CAPACITY_FAMILIES or not rule.up:
            continue
        limit = _series_limit(s, limits)
        if limit is None or limit <= 0:
            continue
        points = [(ts.timestamp(), v) for ts, v in zip(s.timestamps, s.values, strict=False)
                  if v is not None and math.isfinite(v) and (alert_ts is None or ts.timestamp() <= alert_ts + 300)]
        if len(points) < 3:
            continue
        level = points[-1][1]
        if level < AT_LIMIT * limit:
            continue
        first = next(ts for ts, v in points if v >= AT_LIMIT * limit)
        when = datetime.fromtimestamp(first, tz=UTC)
        start_level = points[0][1]
        score = 0.9 if start_level < AT_LIMIT * limit else 0.6  # at the limit all along: weaker as a change
        what = f"{s.metric} at {_fmt(level)} of its limit {_fmt(limit)} since {when:%H:%M} UTC"
        out.append(Signal(
            source="metrics", detector="metric.at_limit", service=s.service, metric=s.metric, kind=rule.up,
            title=f"{s.service}: {what}", score=score, started_at=when,
            evidence=[Evidence(id=f"metric:{s.service}:{s.metric}", type=EvidenceType.METRIC,
                               summary=f"{what} (score {score:.2f})", service=s.service, ts=when, weight=score)],
            attributes={"before": start_level, "after": level, "limit": limit, "change_time": when.isoformat(),
                        "shape": "at_limit", "direction": 1, "labels": dict(s.labels)},
        ))
    return out


def _to_signal(f: _Finding, score: float, earliness: float, victim_of: list[str]) -> Signal:
    s = f.series
    when = datetime.fromtimestamp(f.change_ts, tz=UTC)
    verb = "rose" if f.shift.direction > 0 else "fell"
    if f.shape == "ramp":
        what = f"{s.metric} grew steadily ({_fmt(f.slope_per_h)}/h) to {_fmt(float(s.values[-1]) if s.values else f.shift.after)}"
    else:
        what = f"{s.metric} {verb} from {_fmt(f.shift.before)} to {_fmt(f.shift.after)}"
    summary = f"{what} at {when:%H:%M} UTC (score {score:.2f})"
    detector = (
        "metric.changepoint" if f.shape in ("step", "plateau_at_max", "drop_after_high") else "metric.trend"
    )
    evidence = Evidence(
        id=f"metric:{s.service}:{s.metric}",
        type=EvidenceType.METRIC,
        summary=summary,
        service=s.service,
        ts=when,
        weight=score,
    )
    return Signal(
        source="metrics",
        detector=detector,
        service=s.service,
        metric=s.metric,
        kind=f.kind,
        title=f"{s.service}: {what}",
        score=score,
        started_at=when,
        evidence=[evidence],
        attributes={
            "before": f.shift.before,
            "after": f.shift.after,
            "change_time": when.isoformat(),
            "robust_z": round(f.z, 3),
            "anomaly": round(f.anomaly, 4),
            "earliness": round(earliness, 3),
            "shape": f.shape,
            "direction": f.shift.direction,
            "slope_per_hour": f.slope_per_h,
            "labels": dict(s.labels),
            "downstream_of": victim_of,
        },
    )
