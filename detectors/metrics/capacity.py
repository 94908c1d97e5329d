"""Exhaustible resources: their limit, how close a series is to it, and values printed in their units.

A "used" series (disk used, pool in use, memory working set) is exhausted at its limit; an
"available" series (``node_filesystem_avail_bytes``, ``MemAvailable``, an available ratio) at 0, out of
the size it is a share of (``node_filesystem_size_bytes`` of the same mountpoint, ``MemTotal``, 1 for a
ratio, 100 for a percent). A fill is a cause only when the resource is near exhaustion or will be
within hours at the current slope (time to exhaustion); a fall of 1% of a filesystem that is 30% free
is not a fill however suddenly it came.
"""

from __future__ import annotations

import math
import re

from bot.domain.models import MetricSeries
from detectors.metrics.kinds import is_falling_bad, normalise_name, rule_for, series_name, unit_of

LIMIT_SUFFIX = re.compile(r"_(max|limit|limits|limit_bytes|capacity|size_bytes|total_bytes|memtotal_bytes|memtotal|cores)$")
PLACE_LABELS = ("mountpoint", "device", "volume", "persistentvolumeclaim", "container")
# share of the resource used at which a fill starts / fully counts as near exhaustion
NEAR_USED: dict[str, tuple[float, float]] = {"disk": (0.85, 0.95), "memory": (0.85, 0.95)}
NEAR_DEFAULT = (0.80, 0.95)
# hours to exhaustion at the current slope: full credit at the first, none at the second
SOON_HOURS: dict[str, tuple[float, float]] = {}  # per family, when it differs from the default
SOON_DEFAULT = (0.5, 2.0)
SOON_MIN_MOVE = 0.05  # share of the size a change must move before its slope predicts exhaustion

LimitKey = tuple[str, str, str]


def place_of(labels: dict[str, str]) -> str:
    """The part of a host a series measures (a mountpoint, a device), so limits pair up per place."""
    return next((labels[k] for k in PLACE_LABELS if labels.get(k)), "")


def limits_of(series: list[MetricSeries]) -> dict[LimitKey, float]:
    """(service, resource stem, place) -> the latest value of a limit series (``db_connections_max``,
    ``node_filesystem_size_bytes{mountpoint="/"}``)."""
    out: dict[LimitKey, float] = {}
    for s in series:
        rule = rule_for(series_name(s.metric, s.labels))
        if rule is None or rule.family != "limit":
            continue
        vals = [v for v in s.values if v is not None and math.isfinite(v) and v > 0]
        if vals:
            stem = LIMIT_SUFFIX.sub("", normalise_name(s.metric))
            out[(s.service, stem, place_of(s.labels))] = float(vals[-1])
    return out


def limit_of(series: MetricSeries, limits: dict[LimitKey, float]) -> float | None:
    """The value the resource is exhausted at (a "used" series) or is a share of (an "available"
    one): a limit series of the same service, resource and place, 1 for a ratio, 100 for a percent."""
    name = normalise_name(series.metric)
    place = place_of(series.labels)
    top = max((v for v in series.values if v is not None and math.isfinite(v)), default=math.inf)
    unit = unit_of(series.metric)
    if unit == "ratio" and top <= 1.0:  # a share is out of 1 whatever sizes sit next to it
        return 1.0
    if unit == "percent" and top <= 100.0:
        return 100.0
    best: tuple[int, float] | None = None
    for (svc, stem, where), value in limits.items():
        if svc == series.service and stem and name.startswith(stem) and where in ("", place):
            if best is None or len(stem) > best[0]:
                best = (len(stem), value)
    return best[1] if best is not None else None


def used_share(metric: str, level: float, limit: float) -> float:
    """Share of the resource in use: ``level / limit``, or ``1 - level / limit`` for an available series."""
    share = level / limit
    return 1.0 - share if is_falling_bad(metric) else share


def hours_to_exhaustion(metric: str, level: float, limit: float, slope_per_h: float) -> float:
    """Hours until the resource runs out at ``slope_per_h`` (inf when it is not heading there)."""
    if is_falling_bad(metric):
        return level / -slope_per_h if slope_per_h < 0 else math.inf
    return max(limit - level, 0.0) / slope_per_h if slope_per_h > 0 else math.inf


def exhaustion_factor(metric: str, level: float, limit: float, slope_per_h: float, moved: float | None = None) -> float:
    """1 when the resource is near exhaustion or will be soon at this slope, 0 when neither.

    ``moved`` (how far the series moved in its change, in its units) keeps a slope measured over a
    few points from predicting exhaustion: "soon" counts fully only once the change moved at least
    ``SOON_MIN_MOVE`` of the resource's size."""
    rule = rule_for(metric)
    family = rule.family if rule is not None else ""
    lo, hi = NEAR_USED.get(family, NEAR_DEFAULT)
    near = min(max((used_share(metric, level, limit) - lo) / (hi - lo), 0.0), 1.0)
    hours = hours_to_exhaustion(metric, level, limit, slope_per_h)
    soon_lo, soon_hi = SOON_HOURS.get(family, SOON_DEFAULT)
    soon = 0.0
    if hours <= soon_lo:
        soon = 1.0
    elif math.isfinite(hours) and hours > 0:
        soon = max(0.0, math.log(soon_hi / hours) / math.log(soon_hi / soon_lo))
    if moved is not None:
        soon *= min(1.0, abs(moved) / (SOON_MIN_MOVE * limit))
    return max(near, soon)


# utilisation-like shares that are no problem while low, however sharply they rose (an I/O busy time
# from 0.01% to 0.2%): (name pattern, share of the limit from which a rise fully counts)
MEANINGFUL_LEVEL: tuple[tuple[str, float], ...] = (
    # PSI: share of time some task stalled; memory stalls are rare on a healthy host, CPU and I/O
    # stalls of a few percent are everyday on a busy one
    (r"pressure.*mem|mem.*pressure|psi.*mem", 0.02),
    (r"pressure|psi", 0.3),
    (r"io_time|disk.*(util|busy)|io_util", 0.5),
    (r"cpu.*(busy|util|usage)|cpu_(percent|pct)$|load_per_core", 0.7),
    (r"throttl", 0.1),
)


def level_weight(metric: str, level: float, limit: float | None) -> float:
    """How much a rise to ``level`` can count for a utilisation-like share (1 for other series)."""
    if limit is None or limit <= 0:
        return 1.0
    name = normalise_name(metric)
    for pattern, full in MEANINGFUL_LEVEL:
        if re.search(pattern, name):
            return min(1.0, max(0.0, level / limit) / full)
    return 1.0


def fmt_number(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_value(v: float, metric: str) -> str:
    """A value in its unit: bytes as GiB/MiB/KiB, a ratio as a percent, seconds and ms with their unit."""
    unit = unit_of(metric)
    if unit == "bytes":
        a = abs(v)
        for size, name in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if a >= size:
                return f"{v / size:.3g} {name}"
        return f"{v:.0f} B"
    if unit == "ratio":
        return f"{100 * v:.3g}%"
    if unit == "percent":
        return f"{v:.3g}%"
    if unit == "ms":
        return f"{fmt_number(v)} ms"
    if unit == "seconds":
        return f"{fmt_number(v)} s"
    return fmt_number(v)


def fmt_rate(per_h: float, metric: str) -> str:
    """A slope per hour, unsigned, in the series' unit (``1.2 GiB/h``, ``3 points of %/h``)."""
    unit = unit_of(metric)
    if unit == "ratio":
        return f"{100 * abs(per_h):.3g} percentage points/h"
    if unit == "percent":
        return f"{abs(per_h):.3g} percentage points/h"
    return f"{fmt_value(abs(per_h), metric)}/h"
