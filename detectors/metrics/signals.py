"""Metric signals for one analysis: which series changed, when, how much, and what that points at.

For each series: clean it (``prepare``), find the best level change before (or shortly after) the
alert, measure it robustly against the earlier segment (median/MAD), read the shape (step, steady
ramp, drop after a high, plateau at the maximum) and map the metric name + direction + shape to a
vocabulary kind. Scores are calibrated from the robust z (``anomaly_score``) and then weighted by how
early the change came compared with the other anomalous series (the earliest change is the most
likely origin), and lowered for a service whose own dependency changed earlier (topology).

Which service a symptom blames is the call of one ranking, ``rank.rank_metric_causes`` (the one
``bench.petshop`` measures): symptoms' scores rest on their service's score there, and its clear top
origin becomes a ``dependency_failure`` signal (``metric.origin``) when its own series name no cause.
Series that stop before the alert while the others go on are read by ``silence.metric_silences``
(``metric.silence``: the host or process that went away).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot.domain.models import Evidence, EvidenceType, MetricSeries, Signal, SignalSource
from bot.domain.vocabulary import is_cause_kind
from detectors.metrics.capacity import (
    LimitKey,
    exhaustion_factor,
    fmt_rate,
    fmt_value,
    hours_to_exhaustion,
    level_weight,
    limit_of,
    limits_of,
    place_of,
    used_share,
)
from detectors.metrics.changepoint import (
    Hinge,
    Shift,
    best_hinge,
    best_mean_shift,
    linear_fit,
    noise_sd,
    robust_shift,
)
from detectors.metrics.excursion import current_excursion, first_alarm, online_peak, online_scores
from detectors.metrics.kinds import bad_directions, is_falling_bad, kind_for, rule_for, series_name
from detectors.metrics.prepare import epoch_seconds, prepare
from detectors.metrics.rank import RankedCause, rank_metric_causes
from detectors.metrics.robust import median
from detectors.metrics.silence import metric_silences

logger = logging.getLogger(__name__)

Z_HALF = 4.0  # robust z at which the anomaly score is 0.5
RAMP_FAMILIES = frozenset({"memory", "disk", "pool", "queue", "db", "threads"})  # leaks and fills
CAPACITY_FAMILIES = frozenset({"disk", "pool", "threads", "memory"})  # causes only once near their limit
ONLINE_ALARM = 0.99  # an online score this high is an alarm (its first one is recorded)
ONLINE_ORDINARY, ONLINE_FULL = 0.3, 0.95  # online peak: no credit at the first, full at the second
ONLINE_FLOOR = 0.6  # share of the change's score kept when the online detector finds it ordinary
ORIGIN_SPAN = 0.2  # how much being the likely origin (1) rather than the last (0) weighs in a score
RANK_SHARE = 0.5  # the origin's share from rank.rank_metric_causes (the rest from the order of changes)
RANK_TRUST = 0.8  # share of a signal's score that rests on its service's score in rank.rank_metric_causes
ORIGIN_SYMPTOMS = frozenset({"traffic_spike"})  # cause kinds that read traffic, which an origin's callers change
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
    name: str = ""  # the name the series is read by (``kinds.series_name``)
    online: float | None = None  # the online detector's peak score from the change to the alert
    online_alarm_ts: float | None = None
    limit: float | None = None  # the resource's limit / size, when it is an exhaustible one


def _drop_after_high(y: np.ndarray, shift: Shift) -> float:
    """z of a sharp fall from the series' highs (a restart after OOM), 0 when it is not one."""
    i = shift.index
    if shift.direction > 0 or i < 3:
        return 0.0
    k = min(10, i)
    last_before = median(y[i - k : i])
    if last_before < float(np.percentile(y, 90)):
        return 0.0
    z_drop = (last_before - shift.after) / noise_sd(y[:i], last_before)
    return z_drop if z_drop > 6 else 0.0


def _step_sse(y: np.ndarray, index: int) -> float:
    a, b = y[:index], y[index:]
    return float(np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2))


def _name(series: MetricSeries) -> str:
    return series_name(series.metric, series.labels)


def _changepoint(
    name: str, t: np.ndarray, y: np.ndarray, last: int | None
) -> tuple[Shift, str, int, float, float, float, float] | None:
    """The best level change or bend before the alert: (shift, shape, direction, z, change_ts,
    slope per hour, before, after packed in the shift), None when there is none in a bad direction."""
    rule = rule_for(name)
    min_size = max(2, min(5, y.size // 8))
    idx = best_mean_shift(y, min_size=min_size, last=last)
    if idx is None:
        return None
    shift = robust_shift(y, idx)
    allowed = bad_directions(name)
    slope_per_h = linear_fit(t, y)[0] * 3600.0
    change_ts = float(t[idx])
    shape, direction = "step", shift.direction
    z = max(abs(shift.z_level), 0.5 * abs(shift.z_peak))
    before, after = shift.before, shift.after
    z_drop = _drop_after_high(y, shift) if rule is not None and rule.family == "memory" else 0.0
    ramp_prone = rule is not None and rule.family in RAMP_FAMILIES
    hinge = best_hinge(t, y, min_size=max(min_size, 5), last=last) if ramp_prone or z >= 2.0 else None
    climb = _climb_before_drop(t, y, shift.index) if z_drop > 0 and rule is not None and rule.down is None else None
    if climb is not None:
        # the memory climbed at one steady rate through most of the window and then fell (the process killed and
        # restarted): a steady climb before an OOM kill is the leak that explains it (docs/causes.md); the growth is
        # the change, begun at (or before) the window's start
        direction, z, slope = climb
        shape, change_ts = "ramp", float(t[0])
        before, after = median(y[:5]), float(np.max(y[: shift.index]))
        slope_per_h = slope * 3600.0
        if direction not in allowed:
            return None
        return Shift(0, before, after, shift.scale, shift.z_level, shift.z_peak, direction), shape, direction, z, \
            change_ts, slope_per_h, 1.0
    if z_drop > 0:
        shape, z, allowed = "drop_after_high", max(z, z_drop), (*allowed, -1)
    elif hinge is not None and hinge.gain >= 0.3 and hinge.slope_change != 0.0:
        end = float(t[-1])
        extra = hinge.slope_change * (end - float(t[hinge.index]))
        noise = max(hinge.resid_sd, noise_sd(y, median(y)))
        resid = y - np.interp(t, [t[0], t[hinge.index], end], [0.0, 0.0, extra])
        sse_hinge = float(np.sum((resid - np.polyval(np.polyfit(t - t[0], resid, 1), t - t[0])) ** 2))
        if rule is not None and rule.family == "memory" and 1 in allowed and _levelled_rise(t, y, hinge, noise):
            # a leak already under way when the window opened, held at its top since the bend: the growth is
            # the change, begun at (or before) the window's start (a fill held at its limit keeps the at-limit
            # reading, which says more: how full, since when)
            rise = hinge.slope_before * float(t[hinge.index] - t[0])
            shape, direction, z = "ramp", 1, 0.5 * rise / noise
            change_ts = float(t[0])
            before, after = median(y[:5]), float(y[-1])
            slope_per_h = hinge.slope_before * 3600.0
            idx = _climb_start(t[: hinge.index + 1], y[: hinge.index + 1], min_size)
            if idx:  # flat before it: the climb began inside the window, and that is when it changed
                change_ts, before = float(t[idx]), median(y[:idx])
        elif sse_hinge < 0.8 * _step_sse(y, idx) and (
                (1 if extra > 0 else -1) in allowed or direction not in allowed):
            # a bend explains the series better than a step; not a bend the other way (a recovery after the
            # alert) in place of a step in a bad direction before it: that step is the incident's change
            shape, direction = "ramp", 1 if extra > 0 else -1
            z = 0.5 * abs(extra) / noise
            change_ts = float(t[hinge.index])
            before, after = median(y[max(0, hinge.index - 5) : hinge.index + 1]), float(y[-1])
            slope_per_h = (hinge.slope_before + hinge.slope_change) * 3600.0
            idx = hinge.index
    if shape == "step" and rule is not None and rule.family == "memory":
        steady = _steady_climb(t[:last] if last else t, y[:last] if last else y, idx)
        if steady is not None and steady[0] in allowed:
            # a leak under way since before the window opened and not yet at its top: the whole window is the growth
            direction, z, slope = steady
            shape, change_ts, idx = "ramp", float(t[0]), 0
            before, after = median(y[:5]), float(y[-1])
            slope_per_h = slope * 3600.0
    if direction not in allowed:
        return None
    shift = Shift(idx, before, after, shift.scale, shift.z_level, shift.z_peak, direction)
    return shift, shape, direction, z, change_ts, slope_per_h, 0.0


STEADY_FIT = 0.25  # a line leaves at most this share of the best step's squared error: it explains the series
STEADY_RISE = 8.0  # and the climb over the window is this many times the point-to-point noise
STEADY_SHARE = 0.3  # and a third of the series' own level: a few percent an hour is a normal growth, not a leak


def _steady_climb(t: np.ndarray, y: np.ndarray, step_index: int) -> tuple[int, float, float] | None:
    """A memory series that climbs (or, for available memory, falls) at one steady rate through the whole window:
    a straight line fits it far better than the best step (``STEADY_FIT``) and the climb is far above the noise
    (``STEADY_RISE``) and large for its level (``STEADY_SHARE``). That is a leak already under way when the window
    opened (docs/causes.md: steady growth is a leak), not a level change in its middle; a slow normal growth (a cache
    warming, a few percent an hour) stays nothing. Returns (direction, z, slope per second), or None."""
    if y.size < 20 or not 0 < step_index < y.size:
        return None
    slope, intercept, _ = linear_fit(t, y)
    resid = y - (intercept + slope * t)
    sse_line = float(np.dot(resid, resid))
    noise = noise_sd(y, median(y))
    climb = abs(slope) * float(t[-1] - t[0])
    if slope == 0.0 or noise <= 0.0 or sse_line >= STEADY_FIT * _step_sse(y, step_index) or climb < STEADY_RISE * noise \
            or climb < STEADY_SHARE * abs(median(y)):
        return None
    return (1 if slope > 0 else -1), 0.5 * climb / noise, slope


KILL_SPAN = 0.5  # the climb before the fall fills at least this share of the window


def _climb_before_drop(t: np.ndarray, y: np.ndarray, drop: int) -> tuple[int, float, float] | None:
    """A memory series that climbed steadily from the window's start up to a sharp fall at ``drop`` (the process
    killed at the top and restarted low): the climb fills at least ``KILL_SPAN`` of the window and is the steady,
    large climb ``_steady_climb`` asks of a leak. A spike to the limit, or a fall after a flat top, is none.
    Returns (direction, z, slope per second) of the climb, or None."""
    if drop < KILL_SPAN * y.size:
        return None
    seg_t, seg_y = t[:drop], y[:drop]
    step = best_mean_shift(seg_y, min_size=max(2, min(5, seg_y.size // 8)))
    steady = _steady_climb(seg_t, seg_y, step if step is not None else seg_y.size // 2)
    return steady if steady is not None and steady[0] > 0 else None


def _climb_start(t: np.ndarray, y: np.ndarray, min_size: int) -> int:
    """Where a climb that levelled off began: the index of a bend before which the series was flat (its slope at
    most ``LEVELLED_FLAT`` of the climb's), or 0 when it was climbing from the window's start (a leak under way
    before the window opened)."""
    bend = best_hinge(t, y, min_size=max(2, min(min_size, y.size // 4)))
    if bend is None or bend.gain < 0.3 or bend.slope_change <= 0.0:
        return 0
    climb = bend.slope_before + bend.slope_change
    return bend.index if abs(bend.slope_before) <= LEVELLED_FLAT * climb else 0


LEVELLED_FLAT = 0.2  # slope after the bend, as a share of the slope before, that counts as flat
LEVELLED_SPAN = 0.5  # the rise must fill at least this share of the window before it levels off
LEVELLED_TOP = 0.9  # and hold at no less than this share of the window's maximum


def _levelled_rise(t: np.ndarray, y: np.ndarray, hinge: Hinge, noise: float) -> bool:
    """A steady rise from the window's start that stopped at the top (a heap grown for hours, then held at its
    ceiling while the process fails): rising over at least ``LEVELLED_SPAN`` of the window, flat after the bend,
    the flat part at the window's maximum, and the rise far above the noise."""
    if hinge.slope_before <= 0.0 or hinge.slope_change >= 0.0 or noise <= 0.0:
        return False
    after = hinge.slope_before + hinge.slope_change
    span = float(t[-1] - t[0])
    rise = hinge.slope_before * float(t[hinge.index] - t[0])
    top = float(np.max(y))
    return (abs(after) <= LEVELLED_FLAT * hinge.slope_before and span > 0
            and float(t[hinge.index] - t[0]) >= LEVELLED_SPAN * span
            and top > 0 and median(y[hinge.index:]) >= LEVELLED_TOP * top and rise >= 8.0 * noise)


def _plateau(y: np.ndarray, idx: int, direction: int, shape: str) -> str:
    if shape == "step" and direction > 0 and y.size - idx >= 3:
        top = float(y.max())
        tail = y[idx:]
        if top > 0 and median(tail) >= 0.97 * top and float(np.std(tail)) <= 0.02 * abs(top):
            return "plateau_at_max"
    return shape


def _analyse(
    series: MetricSeries, alert_ts: float | None, min_points: int, min_score: float = 0.0,
    epochs: np.ndarray | None = None,
) -> _Finding | None:
    p = prepare(series, epochs=epochs)
    t, y = p.t, p.y
    if y.size < min_points or float(np.ptp(y)) == 0.0:
        return None
    name = _name(series)
    rule = rule_for(name)
    if rule is not None and rule.family == "limit":
        return None
    last = None
    if alert_ts is not None:
        # a cause changes before the alert; allow a little slack after it (scrape delay)
        slack = max(120.0, 0.05 * float(t[-1] - t[0]))
        last = int(np.searchsorted(t, alert_ts + slack, side="right"))
    cut = y.size if last is None else max(1, min(last, y.size))
    found = _changepoint(name, t, y, last)
    # the alert-time level against a baseline that leaves earlier excursions out
    exc = current_excursion(y, cut, bad_directions(name))
    earlier = exc.earlier if exc is not None else None
    # the best split of the window can be an earlier burst (or its end): then the excursion the alert
    # is in, measured against the baseline without that burst, is the change
    if exc is not None and (found is None or found[2] != exc.direction):
        before, after = exc.baseline, exc.level
        shift = Shift(exc.onset, before, after, exc.scale, exc.z, exc.z, exc.direction)
        slope_per_h = linear_fit(t[exc.onset : cut], y[exc.onset : cut])[0] * 3600.0 if cut - exc.onset >= 3 else 0.0
        found = (shift, "step", exc.direction, exc.z, float(t[exc.onset]), slope_per_h, 0.0)
    if found is None:
        return None
    shift, shape, direction, z, change_ts, slope_per_h, killed = found
    shape = _plateau(y, shift.index, direction, shape)
    kind = kind_for(name, direction=direction, shape=shape)
    if kind is None:
        return None
    if anomaly_score(z) < min_score:
        return None  # the online view could only lower it
    scores = online_scores(t, y, earlier)
    peak = online_peak(scores, shift.index - 3, max(cut, shift.index + 1))
    alarm = first_alarm(scores, shift.index - 3, max(cut, shift.index + 1), ONLINE_ALARM)
    # a slow fill or leak is judged by its fit and its time to exhaustion: the online detector's rank
    # calibration, over one alert window, has no history in which a steady bend is rare
    anomaly = anomaly_score(z) * (_online_weight(peak) if shape != "ramp" else 1.0)
    # a leak that ended in a kill is judged at its top: the restart took the level down, not a recovery
    anomaly *= 1.0 if killed else _still_out(name, shift, shape, median(y[max(0, cut - 3) : cut]))
    level = float(np.max(y[:cut])) if killed else median(y[max(0, cut - 3) : cut])
    span = float(t[-1] - t[0])
    return _Finding(
        series, shift, change_ts, kind, shape, z, anomaly, slope_per_h, level, span, float(t[-1]),
        name=name, online=peak, online_alarm_ts=float(t[alarm]) if alarm is not None else None,
    )


EVENT_FAMILIES = frozenset({"oom", "restarts"})  # counts of events: back to 0 once the events stop
RECOVERED = 0.3  # a level back to within this share of its change is a past excursion


def _still_out(name: str, shift: Shift, shape: str, level: float) -> float:
    """1 when the series is still changed at the alert, ``RECOVERED`` when it came back (a burst that
    ended before the alert is not what the alert is about); event counts and sawtooth resets keep 1."""
    rule = rule_for(name)
    if shape == "drop_after_high" or (rule is not None and rule.family in EVENT_FAMILIES):
        return 1.0
    moved = shift.direction * (shift.after - shift.before)
    if moved <= 0:
        return 1.0
    return RECOVERED if shift.direction * (level - shift.before) < RECOVERED * moved else 1.0


def _online_weight(peak: float | None) -> float:
    """How far the online detector's verdict lets a change count: full from ``ONLINE_FULL``, down to
    ``ONLINE_FLOOR`` for a change it finds ordinary; 1 when the series is too short for it to judge."""
    if peak is None:
        return 1.0
    lo, hi = ONLINE_ORDINARY, ONLINE_FULL
    return ONLINE_FLOOR + (1.0 - ONLINE_FLOOR) * min(max((peak - lo) / (hi - lo), 0.0), 1.0)


def _capacity_factor(f: _Finding, limit: float, alert_ts: float | None) -> float:
    """1 when an exhaustion kind is at or near its limit or will reach it soon at the current slope
    (``capacity.exhaustion_factor``); for a "used" series outside disks, also when it changed at the
    incident. A disk or an "available" series far from exhaustion gets 0 however recent its change:
    a fall of 1% of a filesystem that is 30% free is not a fill."""
    factor = exhaustion_factor(f.name, f.level, limit, f.slope_per_h, moved=f.shift.after - f.shift.before)
    rule = rule_for(f.name)
    if rule is not None and rule.family != "disk" and not is_falling_bad(f.name):
        ref = alert_ts if alert_ts is not None else f.end_ts
        if f.change_ts >= ref - max(RECENT_S, 0.1 * f.span_s):
            factor = 1.0
    return factor


# (family of a finding, family of another finding on the same service, kind the first one becomes)
COMBINATIONS: tuple[tuple[str, str, str], ...] = (
    ("memory", "restarts", "oom_kill"),  # memory high and the process restarting: killed for memory
)


def _combine(findings: list[_Finding]) -> None:
    """Relabel findings whose meaning depends on another series of the same service."""
    families: dict[str, set[str]] = {}
    for f in findings:
        rule = rule_for(f.name)
        if rule is not None:
            families.setdefault(f.series.service, set()).add(rule.family)
    for f in findings:
        rule = rule_for(f.name)
        if rule is None:
            continue
        for fam, other, kind in COMBINATIONS:
            if rule.family == fam and other in families.get(f.series.service, set()):
                f.kind = kind


def _weigh_capacity(findings: list[_Finding], limits: dict[LimitKey, float], alert_ts: float | None) -> None:
    """Scale exhaustion kinds by how close their resource is to running out (unknown size: halved
    for an "available" series, whose fall alone says nothing about how full it is), and rises of
    utilisation-like shares by how high they got (``capacity.level_weight``)."""
    for f in findings:
        if f.shift.direction > 0:
            f.anomaly *= level_weight(f.name, f.level, limit_of(f.series, limits))
        rule = rule_for(f.name)
        if rule is None or rule.family not in CAPACITY_FAMILIES:
            continue
        falling = is_falling_bad(f.name)
        if f.shift.direction < 0 and not falling:
            continue
        limit = limit_of(f.series, limits)
        if limit is not None and limit > 0:
            f.limit = limit
            f.anomaly *= 0.3 + 0.7 * _capacity_factor(f, limit, alert_ts)
        elif falling:
            f.anomaly *= 0.5


@dataclass
class _Origins:
    """What the measured ranking (``rank.rank_metric_causes``) says about the services that changed."""

    origin: list[float]  # per finding: how much it looks like the origin (1 .. 0)
    victims: dict[str, list[str]]  # service -> the services it is a victim of
    position: dict[str, float]  # service -> its place in the ranking (1 first .. 0 last)
    trust: dict[str, float] = field(default_factory=dict)  # service -> its ranking score / the top's (1 .. 0)
    ranked: list[RankedCause] = field(default_factory=list)


def _origin_order(
    series: list[MetricSeries], findings: list[_Finding], alert_ts: float | None,
    topology: dict[str, list[str]] | None, alert_metric: str | None = None,
    epochs: list[np.ndarray | None] | None = None,
) -> _Origins:
    """How much each finding looks like the origin (1 .. 0) and whom each service is a victim of.

    Two orders are averaged: the order of the changes (a cause changes before its effects, also
    within one service) and, with an alert time, the position of the finding's service in
    ``rank.rank_metric_causes`` (the ranking ``bench.petshop`` measures: robust z around the alert,
    weighted towards the alerting metric's family, explanation along the call graph). A service is
    a victim when the ranking says so or when a dependency of it changed no later than it did."""
    n = len(findings)
    order = np.array([f.change_ts for f in findings]).argsort().argsort()  # 0 = earliest
    earliness = [1.0 - r / (n - 1) if n > 1 else 1.0 for r in order]
    first: dict[str, float] = {}
    for f in findings:
        first[f.series.service] = min(first.get(f.series.service, f.change_ts), f.change_ts)
    services = sorted(first)
    victims = {
        svc: [d for d in (topology or {}).get(svc, []) if d != svc and d in first and first[d] <= first[svc]]
        for svc in services
    }
    if alert_ts is None:
        return _Origins(earliness, victims, {})
    # the ranking sees every series, as bench.petshop measures it: an origin whose own change point
    # is unremarkable (a few points at the end of a noisy window) still explains its callers
    named = [s if _name(s) == s.metric else s.model_copy(update={"metric": _name(s)}) for s in series]
    at = datetime.fromtimestamp(alert_ts, tz=UTC)
    times = [e if e is not None else epoch_seconds(s) for s, e in zip(series, epochs, strict=True)] if epochs else None
    everyone = rank_metric_causes(named, alert_time=at, topology=topology, alert_metric=alert_metric, epochs=times)
    ranked = [c for c in everyone if c.service in first]
    unranked = sorted(set(services) - {c.service for c in ranked}, key=lambda svc: first[svc])
    by_rank = [c.service for c in ranked] + unranked
    m = len(by_rank)
    position = {svc: 1.0 - i / (m - 1) if m > 1 else 1.0 for i, svc in enumerate(by_rank)}
    top = max((c.score for c in everyone), default=0.0)
    trust = {svc: 0.0 for svc in services}
    trust.update({c.service: c.score / top if top > 0 else 1.0 for c in ranked})
    for c in ranked:
        victims[c.service] += [v for v in c.victim_of if v not in victims[c.service]]
    origin = [(1 - RANK_SHARE) * e + RANK_SHARE * position[f.series.service]
              for e, f in zip(earliness, findings, strict=True)]
    return _Origins(origin, victims, position, trust, everyone)


def detect_metric_signals(
    series: list[MetricSeries],
    *,
    alert_time: datetime | None = None,
    topology: dict[str, list[str]] | None = None,
    alert_metric: str | None = None,
    min_score: float = 0.5,
    min_points: int = 6,
) -> list[Signal]:
    """Signals for the series that changed abnormally, best first. Never raises on odd data.

    With ``alert_time``, the services are weighed by ``rank.rank_metric_causes`` (the ranking
    ``bench.petshop`` measures), given ``alert_metric`` (the alerting metric's name, or None): a
    symptom's signal (latency, errors, traffic) keeps ``1 - RANK_TRUST`` of its score whatever the
    ranking says and the rest in proportion to its service's ranking score (a signal naming a cause
    keeps its score), and the ranking's top origin, when it accounts for
    its callers' anomalies and its own series name no cause, gets a ``metric.origin`` signal."""
    alert_ts = alert_time.timestamp() if alert_time is not None else None
    findings: list[_Finding] = []
    epochs: list[np.ndarray | None] = []  # each series' timestamps read once, for every use below
    for s in series:
        try:
            epochs.append(epoch_seconds(s))
        except Exception:  # noqa: BLE001 - a clock the platform cannot read: each use reads it itself, as before
            epochs.append(None)
        try:
            f = _analyse(s, alert_ts, min_points, min_score, epochs[-1])
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            logger.warning("metric series skipped", extra={"service": s.service, "metric": s.metric})
            continue
        if f is not None and f.anomaly >= min_score:
            findings.append(f)
    limits = limits_of(series)
    _combine(findings)
    _weigh_capacity(findings, limits, alert_ts)
    findings = [f for f in findings if f.anomaly >= min_score]
    at_limit = _at_limit_signals(series, limits, alert_ts, seen={(f.series.service, f.series.metric) for f in findings})
    at_limit += metric_silences(series, alert_time=alert_time)  # series that stopped: what went away
    if not findings:
        return sorted(at_limit, key=lambda sig: -sig.score)
    try:
        found = _origin_order(series, findings, alert_ts, topology, alert_metric, epochs)
    except (ValueError, FloatingPointError):
        logger.warning("metric ranking failed; ordering by the changes alone")
        found = _origin_order(series, findings, None, topology)
    signals: list[Signal] = []
    for f, first in zip(findings, found.origin, strict=True):
        svc = f.series.service
        score = f.anomaly * (1.0 - ORIGIN_SPAN + ORIGIN_SPAN * first)
        if found.trust and _reads_symptom(f.kind):
            score *= 1.0 - RANK_TRUST + RANK_TRUST * found.trust.get(svc, 0.0)
        victim_of = found.victims.get(svc, [])
        if victim_of:
            score *= 0.9
        sig = _to_signal(f, min(max(score, 0.0), 1.0), first, victim_of)
        if svc in found.position:  # the service's place in rank.rank_metric_causes (1 first .. 0 last)
            sig.attributes["metric_rank_position"] = round(found.position[svc], 3)
        signals.append(sig)
    signals.extend(at_limit)
    origin = _origin_signal(found.ranked, signals, topology)
    if origin is not None:
        signals.append(origin)
    signals.sort(key=lambda s: (-s.score, s.started_at or datetime.max.replace(tzinfo=UTC)))
    return signals


def _reads_symptom(kind: str) -> bool:
    """Whether a finding's kind is what an origin's callers show too (latency, errors, traffic, a busy
    share): whom it blames is the ranking's call. A kind that names how a service fails (a full pool,
    throttling, a leak, a full disk) is evidence of its own, whatever the alert's metric."""
    return not is_cause_kind(kind) or kind in ORIGIN_SYMPTOMS


ORIGIN_LEAD = 2.0  # a top this many times the next service's ranking score is a clear origin however low
ORIGIN_FAMILIES = frozenset({"latency", "errors", "availability"})  # what a caller inherits from a dependency
ORIGIN_KIND = "dependency_failure"  # a service whose own change accounts for its callers' anomalies


def _origin_signal(
    ranked: list[RankedCause], signals: list[Signal], topology: dict[str, list[str]] | None
) -> Signal | None:
    """The ranking's top service as a cause, when it is a clear origin (nobody's victim; scoring at
    least 0.5, or ``ORIGIN_LEAD`` times the next service) that other services call (it explains their
    anomalies along the call graph, or it is a dependency in ``topology``) and whose top series is
    what callers inherit from a dependency (``ORIGIN_FAMILIES``: latency, errors), and its own signals name
    only symptoms (latency, errors, traffic): what the evidence then shows is a dependency failing
    its callers. A service whose series name how it fails (a full pool, throttling, a leak) keeps
    that kind as its answer."""
    if not ranked:
        return None
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if top.family not in ORIGIN_FAMILIES or top.victim_of:
        return None
    if not (top.score >= 0.5 or top.score >= ORIGIN_LEAD * runner_up > 0):
        return None
    called = any(top.service in deps for svc, deps in (topology or {}).items() if svc != top.service)
    if not (top.explains or called):
        return None
    own = [s for s in signals if s.service == top.service]
    if any(is_cause_kind(s.kind) and s.kind not in ORIGIN_SYMPTOMS for s in own):
        return None
    when = top.change_time
    callers = sorted(top.explains or {svc for svc, deps in (topology or {}).items() if top.service in deps})
    names = ", ".join(callers[:5]) + (" ..." if len(callers) > 5 else "")
    role = (f"accounts for the {top.family} of its callers ({names})" if top.explains
            else f"is the likeliest origin of the {top.family} change (called by {names})")
    what = (f"{top.metric} {role}: from {fmt_value(top.before, top.metric)} to "
            f"{fmt_value(top.peak, top.metric)}")
    score = max([top.score] + [s.score for s in own])
    return Signal(
        source=SignalSource.METRICS, detector="metric.origin", service=top.service, metric=top.metric, kind=ORIGIN_KIND,
        title=f"{top.service}: {what}", score=min(score, 1.0), started_at=when,
        # the series the origin rests on, cited by the id its own signal uses
        evidence=[Evidence(id=f"metric:{top.service}:{top.metric}", type=EvidenceType.METRIC,
                           summary=f"{what} (score {score:.2f})", service=top.service, ts=when, weight=score)],
        attributes={"before": top.before, "after": top.peak, "change_time": when.isoformat() if when else None,
                    "robust_z": round(top.z, 3), "family": top.family, "explains": list(top.explains),
                    "direction": top.direction, "shape": "origin", "downstream_of": []},
    )


AT_LIMIT = 0.97  # share of the limit at which an exhaustible resource counts as exhausted
AT_LIMIT_MOSTLY = 0.5  # exhausted at this share of the window's points or more: a state, not a change
AT_FLOOR: dict[str, float] = {"memory": 0.05, "disk": 0.05, "cpu": 0.03}  # "available" share left
AT_LIMIT_FAMILIES = CAPACITY_FAMILIES | {"cpu"}
NOT_A_CEILING = re.compile(r"pressure|psi")  # a stall share near 100% is contention, not a resource at its limit
AT_LIMIT_KIND: dict[str, str] = {"memory": "oom_kill"}  # memory at its limit is pressure, not a leak


def _at_limit_signals(
    series: list[MetricSeries], limits: dict[LimitKey, float], alert_ts: float | None,
    *, seen: set[tuple[str, str]],
) -> list[Signal]:
    """Exhaustible resources (disk, pools, threads, memory, CPU) sitting at their limit at the alert
    (or an "available" series at its floor), even when they got there gradually and no change point
    stands out: a full disk, a CPU pinned at 100% of its cores, are evidence however they got there."""
    out: list[Signal] = []
    for s in series:
        name = _name(s)
        rule = rule_for(name)
        if (s.service, s.metric) in seen or rule is None or rule.family not in AT_LIMIT_FAMILIES:
            continue
        if NOT_A_CEILING.search(name.lower()):
            continue
        falling = is_falling_bad(name)
        kind = rule.down if falling else AT_LIMIT_KIND.get(rule.family, rule.up or "")
        limit = limit_of(s, limits)
        if not kind or limit is None or limit <= 0:
            continue
        points = [(ts.timestamp(), v) for ts, v in zip(s.timestamps, s.values, strict=False)
                  if v is not None and math.isfinite(v) and (alert_ts is None or ts.timestamp() <= alert_ts + 300)]
        if len(points) < 3 or _stale(points, alert_ts):
            continue

        bound = AT_FLOOR.get(rule.family, 0.03) * limit if falling else AT_LIMIT * limit

        def exhausted(v: float, *, bound: float = bound, falling: bool = falling) -> bool:
            return v <= bound if falling else v >= bound

        level = median([v for _, v in points[-3:]])
        if not exhausted(level):
            continue
        first = next(ts for ts, v in points if exhausted(v))
        when = datetime.fromtimestamp(first, tz=UTC)
        start_level = points[0][1]
        # at the limit most of the window (a host that is always busy): weaker as the incident's change
        share = sum(exhausted(v) for _, v in points) / len(points)
        score = 0.6 if share >= AT_LIMIT_MOSTLY else 0.9
        where = f" ({place_of(s.labels)})" if place_of(s.labels) else ""
        if falling:
            what = (f"{s.metric}{where} down to {fmt_value(level, name)} of {fmt_value(limit, name)} "
                    f"since {when:%H:%M} UTC")
        else:
            what = f"{s.metric}{where} at {fmt_value(level, name)} of its limit {fmt_value(limit, name)} since {when:%H:%M} UTC"
        out.append(Signal(
            source=SignalSource.METRICS, detector="metric.at_limit", service=s.service, metric=s.metric, kind=kind,
            title=f"{s.service}: {what}", score=score, started_at=when,
            evidence=[Evidence(id=f"metric:{s.service}:{s.metric}", type=EvidenceType.METRIC,
                               summary=f"{what} (score {score:.2f})", service=s.service, ts=when, weight=score)],
            attributes={"before": start_level, "after": level, "limit": limit, "change_time": when.isoformat(),
                        "shape": "at_limit", "direction": -1 if falling else 1, "labels": dict(s.labels)},
        ))
    return out


STALE_STEPS = 5  # a series whose last point is this many steps before the alert has gone away


def _stale(points: list[tuple[float, float]], alert_ts: float | None) -> bool:
    """True when the series stopped well before the alert (an unmounted filesystem, a deleted pod):
    its last value is not the state at the alert."""
    if alert_ts is None or len(points) < 2:
        return False
    step = median(np.diff([ts for ts, _ in points]))
    return points[-1][0] < alert_ts - max(STALE_STEPS * step, 10.0)


def _describe(f: _Finding) -> str:
    """What happened, in words and units: "rose from 8% to 99.5%", "fell steadily (1.2 GiB/h) to 3 GiB"."""
    s, name = f.series, f.name
    where = f" ({place_of(s.labels)})" if place_of(s.labels) else ""
    if f.shape == "ramp":
        verb = "grew steadily" if f.shift.direction > 0 else "fell steadily"
        end = float(s.values[-1]) if s.values else f.shift.after
        what = f"{s.metric}{where} {verb} ({fmt_rate(f.slope_per_h, name)}) to {fmt_value(end, name)}"
    else:
        verb = "rose" if f.shift.direction > 0 else "fell"
        what = f"{s.metric}{where} {verb} from {fmt_value(f.shift.before, name)} to {fmt_value(f.shift.after, name)}"
    rule = rule_for(name)
    if f.limit is not None and rule is not None and rule.family in CAPACITY_FAMILIES:
        used = used_share(name, f.level, f.limit)
        hours = hours_to_exhaustion(name, f.level, f.limit, f.slope_per_h)
        what += f", {100 * used:.0f}% used"
        if f.shape == "ramp" and math.isfinite(hours) and hours < 72:
            what += f", exhausted in ~{hours:.1f} h at this rate"
    return what


def _to_signal(f: _Finding, score: float, origin: float, victim_of: list[str]) -> Signal:
    s = f.series
    when = datetime.fromtimestamp(f.change_ts, tz=UTC)
    what = _describe(f)
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
        source=SignalSource.METRICS,
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
            "online_score": None if f.online is None else round(f.online, 4),
            "online_alarm_time": None if f.online_alarm_ts is None
            else datetime.fromtimestamp(f.online_alarm_ts, tz=UTC).isoformat(),
            "earliness": round(origin, 3),
            "shape": f.shape,
            "direction": f.shift.direction,
            "slope_per_hour": f.slope_per_h,
            "labels": dict(s.labels),
            "downstream_of": victim_of,
        },
    )
