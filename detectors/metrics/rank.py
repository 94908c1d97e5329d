"""Root-cause ranking over metrics: which service most likely started it.

BARO-style robust scoring around the alert: for every series, the points before the alert (plus an
optional history of normal operation, ``baseline``) give a median and a robust spread; the series
is scored by how far its points from just before the alert onwards move in the bad direction,
beyond what its own pre-alert points already showed. A service's score is its largest series score,
weighted towards the family of the alerting metric (an availability alert is explained by errors
first), lowered for observation points (client-side or load-balancer views of another service) and
for services whose own dependency is about as anomalous (they are more likely victims).

All weights live in :class:`RankParams`; the defaults were tuned on PetShop's ``train`` issues only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot.domain.models import MetricSeries
from detectors.metrics.kinds import bad_directions, rule_for
from detectors.metrics.prepare import prepare

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class RankParams:
    lead_points: int = 1  # the change may start this many points before the alert
    rel_floor: float = 0.05  # spread floor relative to the level (latency, saturation, ...)
    availability_floor: float = 0.001  # relative floor for availability / success ratios
    count_floor: float = 1.0  # Poisson floor sqrt(level + 1) for traffic counts
    other_family_weight: float = 0.1  # series outside the alert's metric family
    traffic_weight: float = 0.5
    proxy_weight: float = 0.2
    proxy_pattern: str = r"(_remote|_client)$|\.elb\.|^https?://|(^|[_.-])(lb|elb|alb|ingress|proxy)([_.-]|$)"
    victim_ratio: float = 0.5  # a dependency at least this anomalous makes the caller a likely victim
    victim_weight: float = 0.5
    min_history: int = 5  # baseline points needed to trust ``baseline`` over pre-alert points only
    tail_percentile: float = 99.9  # with enough history, its extremes set a floor to the spread
    onset_z: float = 3.0  # points at least this far out belong to the excursion the alert is in
    tail_z: float = 3.09  # the normal quantile of that percentile
    # a series observed far less often than its peers (n of the best-covered n_max reference points)
    # has an unreliable baseline: its z is weighted by c (1 + k) / (c + k), c = n / n_max (k = 0: off)
    sparse_k: float = 0.3  # chosen on train (0, 0.03, 0.1, 0.3 -> train AC@1 0.80, 0.80, 0.95, 1.00)


@dataclass
class RankedCause:
    service: str
    score: float  # in [0, 1): calibrated from z
    z: float
    metric: str
    family: str
    direction: int
    change_time: datetime | None
    before: float
    peak: float
    victim_of: list[str] = field(default_factory=list)


def _family(metric: str) -> str:
    rule = rule_for(metric)
    return rule.family if rule is not None else "other"


def series_key(s: MetricSeries) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return s.service, s.metric, tuple(sorted(s.labels.items()))


def _floor(family: str, level: float, p: RankParams) -> float:
    if family == "availability":
        return max(abs(level) * p.availability_floor, 1e-9)
    if family == "traffic":
        return float(np.sqrt(abs(level) + 1.0)) * p.count_floor
    return max(abs(level) * p.rel_floor, 1e-9)


def score_series_at(
    s: MetricSeries, alert_ts: float, baseline: np.ndarray | None, p: RankParams
) -> tuple[float, int, float, float, float] | None:
    """(z, direction, change_ts, before, peak) of one series around the alert, or None."""
    prep = prepare(s)
    t, y = prep.t, prep.y
    if y.size == 0:
        return None
    k = max(0, int(np.searchsorted(t, alert_ts, side="left")) - p.lead_points)
    pre = y[:k]
    if k >= y.size:
        return None
    if baseline is not None and baseline.size >= p.min_history:
        ref = np.concatenate([baseline[np.isfinite(baseline)], pre])
    else:
        ref = pre
    ref = ref[np.isfinite(ref)]
    if ref.size < 2:
        return None
    family = _family(s.metric)
    med = float(np.median(ref))
    scale = max(float(np.median(np.abs(ref - med))) * MAD_TO_SIGMA, _floor(family, med, p))
    hist = baseline[np.isfinite(baseline)] if baseline is not None else np.empty(0)
    if hist.size >= p.min_history * 4:
        # heavy-tailed normal history: a value as far out as its usual extremes is not news
        lo, hi = np.percentile(hist, [100 - p.tail_percentile, p.tail_percentile])
        scale = max(scale, float(max(hi - med, med - lo)) / p.tail_z)
    best: tuple[float, int, float, float, float] | None = None
    for direction in bad_directions(s.metric):
        dev_all = direction * (y - med) / scale
        # walk back from the alert to the onset of the excursion it belongs to
        onset = k
        while onset > 0 and dev_all[onset - 1] >= p.onset_z:
            onset -= 1
        if onset > 0:  # normal points before the onset: the change is [onset, ...]
            start, pre_dev = onset, 0.0
        else:  # elevated since the window began: only growth beyond that counts
            start = k
            pre_dev = max(float(np.max(dev_all[:k])), 0.0) if k > 0 else 0.0
        dev = dev_all[start:]
        if dev.size == 0:
            continue
        i = int(np.argmax(dev))
        z = max(0.0, float(dev[i]) - pre_dev)
        if best is None or z > best[0]:
            best = (z, direction, float(t[start]), med, float(y[start + i]))
    return best


def reference_size(s: MetricSeries, alert_ts: float, baseline: np.ndarray | None, p: RankParams) -> int:
    """Finite points the baseline of ``s`` is estimated from (history plus pre-alert points)."""
    n_pre = sum(
        1 for t, v in zip(s.timestamps, s.values, strict=False) if t.timestamp() < alert_ts and v == v
    )
    n_hist = (
        int(np.isfinite(baseline).sum()) if baseline is not None and baseline.size >= p.min_history else 0
    )
    return n_hist + max(0, n_pre - p.lead_points)


def rank_metric_causes(
    series: list[MetricSeries],
    *,
    alert_time: datetime,
    topology: dict[str, list[str]] | None = None,
    baseline: dict[tuple[str, str, tuple[tuple[str, str], ...]], np.ndarray] | None = None,
    alert_metric: str | None = None,
    params: RankParams | None = None,
) -> list[RankedCause]:
    """Services ranked by how likely their metrics show the origin of the alert, best first.

    ``baseline`` maps :func:`series_key` to values from normal operation; ``alert_metric`` is the
    alerting metric's name (its family is weighted first).
    """
    p = params or RankParams()
    proxy = re.compile(p.proxy_pattern, re.IGNORECASE)
    target_family = _family(alert_metric) if alert_metric else None
    alert_ts = alert_time.timestamp()
    best: dict[str, RankedCause] = {}
    bases = [baseline.get(series_key(s)) if baseline else None for s in series]
    sizes = [reference_size(s, alert_ts, b, p) for s, b in zip(series, bases, strict=True)]
    n_max = max(sizes, default=0)
    for s, base, n_ref in zip(series, bases, sizes, strict=True):
        found = score_series_at(s, alert_ts, base, p)
        if found is None:
            continue
        z, direction, change_ts, before, peak = found
        family = _family(s.metric)
        w = 1.0
        if p.sparse_k > 0 and n_max > 0:
            c = n_ref / n_max
            w *= c * (1 + p.sparse_k) / (c + p.sparse_k)
        if target_family is not None and family != target_family:
            w *= p.other_family_weight
        if family == "traffic":
            w *= p.traffic_weight
        if proxy.search(s.service):
            w *= p.proxy_weight
        z *= w
        cur = best.get(s.service)
        if cur is None or z > cur.z:
            best[s.service] = RankedCause(
                service=s.service,
                score=0.0,
                z=z,
                metric=s.metric,
                family=family,
                direction=direction,
                change_time=datetime.fromtimestamp(change_ts, tz=UTC),
                before=before,
                peak=peak,
            )
    raw = {svc: c.z for svc, c in best.items()}
    for svc, cause in best.items():
        deps = [d for d in (topology or {}).get(svc, []) if raw.get(d, 0.0) >= p.victim_ratio * cause.z > 0]
        if deps:
            cause.victim_of = deps
            cause.z *= p.victim_weight
    for cause in best.values():
        cause.score = cause.z * cause.z / (cause.z * cause.z + 16.0)
    return sorted(best.values(), key=lambda c: (-c.z, c.service))
