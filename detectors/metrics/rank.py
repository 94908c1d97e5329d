"""Root-cause ranking over metrics: which service most likely started it.

BARO-style robust scoring around the alert: for every series, the points before the alert (plus an
optional history of normal operation, ``baseline``) give a median and a robust spread; the series
is scored by how far its points from just before the alert onwards move in the bad direction,
beyond what its own pre-alert points already showed. A service's score is its largest series score,
weighted towards the family of the alerting metric (an availability alert is explained by errors
first), lowered for observation points (client-side or load-balancer views of another service) and
for services whose own dependency is about as anomalous (they are more likely victims).

Along the call graph, a dependency explains its caller when its own change in the caller's metric
family is significant, starts no later and is at least half the caller's in the metric's units
(seconds of latency add up along a synchronous call; a tight-latency caller of a noisy database can
have a far larger z than the database although the database moved as much). The caller is then a
victim, and the service at the end of such a chain claims the strongest anomaly it explains, at the
weight its own evidence gets (an observation point's claim is discounted like its own series).

All weights live in :class:`RankParams`; the defaults were tuned on PetShop's ``train`` issues only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot.domain.models import MetricSeries
from detectors.metrics.kinds import bad_directions, rule_for
from detectors.metrics.prepare import epoch_seconds, prepare
from detectors.metrics.robust import median

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
    # explanation along the call graph: a dependency whose own change in the caller's metric family
    # is at least ``explain_ratio`` of the caller's (in the metric's units: seconds of latency add up
    # along a synchronous call) and at least ``explain_min_z`` on its own, starting no later,
    # accounts for the caller's anomaly; the caller becomes its victim and the origin at the end of
    # such a chain takes the strongest z it explains (0 turns it off)
    # 0.5 by default ("at least half"); PetShop train AC@1 for 0.25 / 0.5 / 0.75 / 1.0: 0.95 / 1.00 /
    # 1.00 / 1.00 (train's only root cause is one service, so train mostly checks for harm)
    explain_ratio: float = 0.5
    explain_min_z: float = 4.0  # the z at which the calibrated score is 0.5
    # a pause in the data this many times the series' usual step is a gap: no change can be dated
    # inside it, so an excursion already under way at the first point after it started at an unknown
    # time (like one under way when the window began) and only its growth beyond that counts
    gap_steps: float = 5.0


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
    explains: list[str] = field(default_factory=list)  # anomalous callers this service accounts for


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
    s: MetricSeries, alert_ts: float, baseline: np.ndarray | None, p: RankParams, data_end: float | None = None,
    *, epochs: np.ndarray | None = None,
) -> tuple[float, int, float, float, float] | None:
    """(z, direction, change_ts, before, peak) of one series around the alert, or None.

    None as well for a series that stopped a gap (``gap_steps`` of its steps) before the alert, or
    before ``data_end`` (where the other series end) when that comes first: its last points are not
    the state at the alert. ``epochs``: ``prepare.epoch_seconds(s)`` when the caller has it."""
    prep = prepare(s, epochs=epochs)
    t, y = prep.t, prep.y
    if y.size == 0 or _stopped(t, min(alert_ts, data_end if data_end is not None else alert_ts), p):
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
    med = median(ref)
    scale = max(median(np.abs(ref - med)) * MAD_TO_SIGMA, _floor(family, med, p))
    hist = baseline[np.isfinite(baseline)] if baseline is not None else np.empty(0)
    if hist.size < p.min_history * 4:
        hist = _normal_history(pre[np.isfinite(pre)], med, scale, p)
    if hist.size >= p.min_history * 4:
        # heavy-tailed normal history: a value as far out as its usual extremes is not news
        lo, hi = np.percentile(hist, [100 - p.tail_percentile, p.tail_percentile])
        scale = max(scale, float(max(hi - med, med - lo)) / p.tail_z)
    resumed = _data_start(t, k, p)
    best: tuple[float, int, float, float, float] | None = None
    for direction in bad_directions(s.metric):
        dev_all = direction * (y - med) / scale
        # walk back from the alert to the onset of the excursion it belongs to (not across a gap)
        onset = k
        while onset > resumed and dev_all[onset - 1] >= p.onset_z:
            onset -= 1
        if onset > resumed or (onset == resumed and dev_all[onset] < p.onset_z):
            start, pre_dev = onset, 0.0  # normal points before the onset: the change is [onset, ...]
        else:  # elevated since the data began (or resumed after a gap): only growth beyond that counts
            start = k
            pre_dev = max(float(np.max(dev_all[resumed:k])), 0.0) if k > resumed else 0.0
        dev = dev_all[start:]
        if dev.size == 0:
            continue
        i = int(np.argmax(dev))
        z = max(0.0, float(dev[i]) - pre_dev)
        # the change shows at the first point that is out (the onset itself when it came before)
        out = np.flatnonzero(dev[: i + 1] - pre_dev >= p.onset_z)
        first = start + (int(out[0]) if out.size else 0)
        if best is None or z > best[0]:
            best = (z, direction, float(t[first]), med, float(y[start + i]))
    return best


def _stopped(t: np.ndarray, end: float, p: RankParams) -> bool:
    """Whether the series' last point is a gap (``gap_steps`` of its usual steps) or more before ``end``."""
    if p.gap_steps <= 0 or t.size < 2:
        return False
    step = median(np.diff(t))
    return step > 0 and float(t[-1]) <= end - p.gap_steps * step


def _data_start(t: np.ndarray, k: int, p: RankParams) -> int:
    """Index of the first point of the stretch of data that holds point ``k``: 0, or the first point
    after the last gap (a pause of ``gap_steps`` usual steps or more) at or before ``k``."""
    if p.gap_steps <= 0 or t.size < 3 or k <= 0:
        return 0
    dt = np.diff(t)
    step = median(dt)
    if step <= 0:
        return 0
    gaps = np.flatnonzero(dt[:k] >= p.gap_steps * step)
    return int(gaps[-1]) + 1 if gaps.size else 0


def _normal_history(pre: np.ndarray, med: float, scale: float, p: RankParams) -> np.ndarray:
    """The pre-alert points as normal history when no separate history is given (a live analysis
    reads a window that starts well before the alert): all of them but the run at their end that is
    already out (``onset_z`` from the median either way), the start of the excursion itself."""
    end = pre.size
    while end > 0 and abs(pre[end - 1] - med) / scale >= p.onset_z:
        end -= 1
    return pre[:end]


def reference_size(s: MetricSeries, alert_ts: float, baseline: np.ndarray | None, p: RankParams,
                   *, epochs: np.ndarray | None = None) -> int:
    """Finite points the baseline of ``s`` is estimated from (history plus pre-alert points)."""
    times = (epochs if epochs is not None else epoch_seconds(s)).tolist()
    n_pre = sum(1 for t, v in zip(times, s.values, strict=False) if t < alert_ts and v == v)
    n_hist = (
        int(np.isfinite(baseline).sum()) if baseline is not None and baseline.size >= p.min_history else 0
    )
    return n_hist + max(0, n_pre - p.lead_points)


@dataclass(frozen=True)
class _Move:
    metric: str
    family: str
    direction: int
    z: float  # unweighted
    change_ts: float
    before: float
    peak: float

    @property
    def amount(self) -> float:
        """How far it moved in the bad direction, in the metric's own units."""
        return self.direction * (self.peak - self.before)


def _explainers(
    cause: RankedCause, moves: dict[str, list[_Move]], deps: list[str], p: RankParams
) -> list[str]:
    """Dependencies whose own change accounts for ``cause``'s: same family and direction, on its own
    anomalous, starting no later, and moving at least ``explain_ratio`` of the caller's amount (the
    same metric name when the dependency has it, else its largest move of that family)."""
    if p.explain_ratio <= 0 or cause.change_time is None:
        return []
    own = cause.direction * (cause.peak - cause.before)
    if own <= 0:
        return []
    start = cause.change_time.timestamp()
    out = []
    for d in deps:
        cands = [
            m
            for m in moves.get(d, [])
            if m.family == cause.family
            and m.direction == cause.direction
            and m.z >= p.explain_min_z
            and m.change_ts <= start
        ]
        same = [m for m in cands if m.metric == cause.metric]
        if not (same or cands):
            continue
        amount = max(m.amount for m in (same or cands))
        if amount >= p.explain_ratio * own:
            out.append(d)
    return out


def _origins(svc: str, edges: dict[str, list[str]]) -> set[str]:
    """Services at the end of the explanation chains starting at ``svc`` (cycles are cut)."""
    out: set[str] = set()
    seen = {svc}
    stack = [svc]
    while stack:
        cur = stack.pop()
        nxt = [d for d in edges.get(cur, []) if d not in seen]
        if not edges.get(cur) and cur != svc:
            out.add(cur)
        for d in nxt:
            seen.add(d)
            stack.append(d)
    return out


def rank_metric_causes(
    series: list[MetricSeries],
    *,
    alert_time: datetime,
    topology: dict[str, list[str]] | None = None,
    baseline: dict[tuple[str, str, tuple[tuple[str, str], ...]], np.ndarray] | None = None,
    alert_metric: str | None = None,
    params: RankParams | None = None,
    epochs: list[np.ndarray] | None = None,
) -> list[RankedCause]:
    """Services ranked by how likely their metrics show the origin of the alert, best first.

    ``baseline`` maps :func:`series_key` to values from normal operation; ``alert_metric`` is the
    alerting metric's name (its family is weighted first); ``topology`` maps a service to the
    services it calls; ``epochs`` is ``prepare.epoch_seconds`` of each series, when the caller has it.
    """
    p = params or RankParams()
    proxy = re.compile(p.proxy_pattern, re.IGNORECASE)
    target_family = _family(alert_metric) if alert_metric else None
    alert_ts = alert_time.timestamp()
    topo = topology or {}
    best: dict[str, RankedCause] = {}
    moves: dict[str, list[_Move]] = {}
    weight: dict[str, float] = {}  # the weight of each service's best series: how far it is trusted
    bases = [baseline.get(series_key(s)) if baseline else None for s in series]
    times = epochs if epochs is not None else [epoch_seconds(s) for s in series]  # each series' read once
    sizes = [reference_size(s, alert_ts, b, p, epochs=e) for s, b, e in zip(series, bases, times, strict=True)]
    n_max = max(sizes, default=0)
    data_end = max((float(e.max()) for e in times if e.size), default=None)
    for s, base, n_ref, e in zip(series, bases, sizes, times, strict=True):
        found = score_series_at(s, alert_ts, base, p, data_end, epochs=e)
        if found is None:
            continue
        z, direction, change_ts, before, peak = found
        family = _family(s.metric)
        moves.setdefault(s.service, []).append(_Move(s.metric, family, direction, z, change_ts, before, peak))
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
            weight[s.service] = w
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
    # explanation chains: the origin at the end takes the strongest anomaly it accounts for
    edges = {
        svc: _explainers(cause, moves, [d for d in topo.get(svc, []) if d in best and d != svc], p)
        for svc, cause in best.items()
        if cause.z > 0
    }
    for svc in sorted(best):
        for origin in sorted(_origins(svc, edges)):
            o = best[origin]
            o.explains.append(svc)
            # its claim on what it explains is trusted as far as its own evidence is
            o.z = max(o.z, raw[svc] * weight[origin])
    for svc, cause in best.items():
        deps = [d for d in topo.get(svc, []) if d != svc and raw.get(d, 0.0) >= p.victim_ratio * raw[svc] > 0]
        deps += [d for d in edges.get(svc, []) if d not in deps]
        if deps:
            cause.victim_of = deps
            cause.z *= p.victim_weight
    for cause in best.values():
        cause.score = cause.z * cause.z / (cause.z * cause.z + 16.0)
    # equal claims: the service whose own anomaly is stronger first
    return sorted(best.values(), key=lambda c: (-c.z, -raw[c.service], c.service))
