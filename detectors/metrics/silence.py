"""A component whose metric series stopped: it went away while the others went on being measured.

The metric twin of ``detectors/logs/silence.py``. A host that dies takes its node_exporter series with it, a process
that dies leaves its own series without samples (or its Prometheus target's ``up`` at 0) while the host under it goes
on reporting. Nothing in those series changes level; they end. ``metric_silences`` reads that end as evidence and
returns a ``metric.silence`` signal for each component (or instance of one) that

- was measured steadily: a series of at least ``MIN_POINTS`` samples over at least ``MIN_LIFETIME``, covering at
  least ``MIN_COVERAGE`` of its own sampling steps (a scrape that was always gappy is not steady);
- stopped before the alert, every one of its series (a reporting sample is any finite value; for ``up`` a value of
  1), and stayed stopped up to the alert (or up to where the others end, if earlier) for at least ``quiet_needed``:
  ``QUIET_MIN``, ``QUIET_STEPS`` of its usual step and ``LONGEST_GAPS`` of its longest earlier gap (a series sparse by
  nature has long gaps, so it must be silent far longer before its silence says anything);
- is outlived by at least ``WITNESSES_MIN`` other components that reported after that quiet stretch (series that
  all end where the bundle's window ends are not silent: the others end with them). A target whose ``up`` fell to 0
  and stayed there needs no witness: the scrape went on and found nothing answering;
- was not replaced: another instance of the same service that first appears around that moment is a rollout;
- was not stopped on purpose: ``without_planned_stops`` drops the silence of a component changed (a planned restart,
  a maintenance, a deploy: any change event on it) within ``PLANNED_BEFORE`` before it stopped, or ``PLANNED_AFTER``
  after: a component taken down on purpose is a change, not a failure.

Which kind (docs/causes.md): a host's own series stopping (the series' service is the host) is ``node_failure`` on the
host; a process's series that stop while its host (the ``instance``/``host`` label of its series) keeps reporting
are ``crash_loop`` (the vocabulary's process crash) on the process's service; a process whose host stopped too is left to the host's signal; a component
whose host the evidence does not show is ``node_failure`` on it, as for a silent log. One instance of a service that
stops while its other instances go on is named on the service at a lower score (``MEMBER_SCORE``).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import ChangeEvent, Evidence, EvidenceType, MetricSeries, Signal, SignalSource, aware

DETECTOR = "metric.silence"
SCORE = 0.75
MEMBER_SCORE = 0.6
MIN_POINTS = 10
MIN_LIFETIME = timedelta(minutes=10)
MIN_COVERAGE = 0.7
QUIET_MIN = timedelta(minutes=5)
QUIET_STEPS = 5
LONGEST_GAPS = 3
WITNESSES_MIN = 2
PLANNED_BEFORE = timedelta(minutes=15)
PLANNED_AFTER = timedelta(minutes=2)
_UP = re.compile(r"^(?:up|target_up|scrape_up)$", re.IGNORECASE)  # Prometheus' own "did the target answer"
_HOST_LABELS = ("instance", "host", "hostname", "nodename", "node")


def _host_of(value: str) -> str:
    v = value.strip()
    if v.startswith("["):
        return v[1:].split("]", 1)[0]
    return v.rsplit(":", 1)[0] if v.count(":") == 1 else v


def _instance(series: MetricSeries) -> tuple[str, str]:
    """(instance, host) of a series: its pod, else its host label (port stripped); empty when it names none."""
    host = next((_host_of(series.labels[k]) for k in _HOST_LABELS if series.labels.get(k)), "")
    return (series.labels.get("pod") or host, host)


@dataclass(frozen=True, slots=True)
class _Trace:
    """One series, summed up: when it was sampled, when it last reported, its usual and longest earlier gap."""

    series: MetricSeries
    first: datetime
    sampled_to: datetime  # its last sample of any value (for ``up``: the scrape itself went on)
    last_report: datetime | None  # its last reporting sample
    usual_s: float
    longest_s: float
    steady: bool
    up_zero: bool  # an ``up`` series that fell to 0 and stayed there


def _trace(series: MetricSeries) -> _Trace | None:
    samples = sorted((aware(t), float(v)) for t, v in zip(series.timestamps, series.values, strict=False)
                     if v is not None and math.isfinite(float(v)))
    if len(samples) < 2:
        return None
    is_up = bool(_UP.match(series.metric.strip()))
    reports = [t for t, v in samples if v >= 0.5] if is_up else [t for t, _ in samples]
    times = reports if len(reports) >= 2 else [t for t, _ in samples]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    usual = float(statistics.median(gaps)) if gaps else 0.0
    span = (times[-1] - times[0]).total_seconds()
    coverage = len(times) / (span / usual + 1) if usual > 0 else 0.0
    steady = (len(reports) >= MIN_POINTS and times[-1] - times[0] >= MIN_LIFETIME and coverage >= MIN_COVERAGE
              and usual > 0)
    last_report = reports[-1] if reports else None
    up_zero = is_up and last_report is not None and samples[-1][1] < 0.5
    return _Trace(series=series, first=samples[0][0], sampled_to=samples[-1][0], last_report=last_report,
                  usual_s=usual, longest_s=float(max(gaps)) if gaps else 0.0, steady=steady, up_zero=up_zero)


def quiet_needed(usual_s: float, longest_s: float) -> timedelta:
    """How long a series must stay silent before its silence says something: longer than its own rhythm."""
    return max(QUIET_MIN, timedelta(seconds=QUIET_STEPS * usual_s), timedelta(seconds=LONGEST_GAPS * longest_s))


@dataclass(slots=True)
class _Unit:
    service: str
    instance: str
    host: str
    traces: list[_Trace]

    @property
    def last_report(self) -> datetime | None:
        reported = [t.last_report for t in self.traces if t.last_report is not None]
        return max(reported) if reported else None

    @property
    def first(self) -> datetime:
        return min(t.first for t in self.traces)

    @property
    def sampled_to(self) -> datetime:
        return max(t.sampled_to for t in self.traces)


def metric_silences(series: Iterable[MetricSeries], *, alert_time: datetime | None = None) -> list[Signal]:
    """A ``metric.silence`` signal for each component (or instance) whose series stopped before the alert while
    the others went on. Never raises on odd data: series without two finite samples are left out."""
    units: dict[tuple[str, str], _Unit] = {}
    for s in series:
        trace = _trace(s)
        if trace is None or not s.service:
            continue
        instance, host = _instance(s)
        unit = units.setdefault((s.service, instance), _Unit(s.service, instance, host, []))
        unit.traces.append(trace)
        unit.host = unit.host or host
    alert = aware(alert_time) if alert_time is not None else None
    by_service: dict[str, list[_Unit]] = defaultdict(list)
    for unit in units.values():
        by_service[unit.service].append(unit)
    out: list[Signal] = []
    for unit in units.values():
        sig = _silence(unit, list(units.values()), by_service, alert)
        if sig is not None:
            out.append(sig)
    return out


def _reports_after(unit: _Unit, moment: datetime) -> bool:
    last = unit.last_report
    return last is not None and last >= moment


def _silence(unit: _Unit, units: list[_Unit], by_service: dict[str, list[_Unit]],
             alert: datetime | None) -> Signal | None:
    steady = [t for t in unit.traces if t.steady]
    last = unit.last_report
    if not steady or last is None or (alert is not None and last >= alert):
        return None
    needed = max(quiet_needed(t.usual_s, t.longest_s) for t in steady)
    others = [u for u in units if u is not unit]
    if not others and not any(t.up_zero for t in unit.traces):
        return None
    horizon = max([u.sampled_to for u in others] + [unit.sampled_to])
    if alert is not None:
        horizon = min(horizon, alert)
    quiet = horizon - last
    if quiet < needed:
        return None
    scraped_on = all(t.up_zero or t.last_report is None or t.last_report <= last for t in unit.traces) and any(
        t.up_zero and t.sampled_to >= last + needed for t in unit.traces)
    witnesses = sorted({u.service if u.service != unit.service else f"{u.service}/{u.instance}"
                        for u in others if _reports_after(u, last + needed)})
    if len(witnesses) < WITNESSES_MIN and not scraped_on:
        return None
    peers = [u for u in by_service[unit.service] if u is not unit]
    if any(last - needed <= u.first <= last + needed and u.first > unit.first for u in peers):
        return None  # a new instance of the same service took over: a rollout, not a loss
    host = unit.host
    if host and host == unit.service:
        kind, named = "node_failure", host
    elif host:
        on_host = [u for u in others if u.host == host or u.service == host]
        if any(_reports_after(u, last + needed) for u in on_host):
            kind, named = "crash_loop", unit.service
        elif on_host:
            return None  # the host stopped too: its own silence names it
        else:
            kind, named = "node_failure", unit.service
    else:
        kind, named = "node_failure", unit.service
    member = any(_reports_after(u, last + needed) for u in peers)
    return _signal(unit, named, kind, last, quiet, witnesses, scraped_on, MEMBER_SCORE if member else SCORE)


def _signal(unit: _Unit, service: str, kind: str, last: datetime, quiet: timedelta, witnesses: list[str],
            scraped_on: bool, score: float) -> Signal:
    steady = [t for t in unit.traces if t.steady]
    trace = max(steady, key=lambda t: t.last_report or t.first)
    metric = trace.series.metric
    where = f" ({unit.instance})" if unit.instance and unit.instance != service else ""
    how = ("its target answered no scrape (up = 0)" if scraped_on
           else f"no sample of its {len(unit.traces)} series")
    shown = ", ".join(witnesses[:3]) + (f" and {len(witnesses) - 3} more" if len(witnesses) > 3 else "")
    also = f"; {shown} went on reporting" if witnesses else ""
    title = (f"{service}{where}: stopped reporting metrics at {last:%H:%M:%S} and stayed silent for "
             f"{quiet.total_seconds() / 60:.0f} min ({how}; sampled every {trace.usual_s:.0f} s before){also}")
    return Signal(
        source=SignalSource.METRICS, detector=DETECTOR, service=service, metric=metric, kind=kind, title=title,
        score=score, started_at=last,
        evidence=[Evidence(id=f"metric:{unit.service}:{metric}", type=EvidenceType.METRIC,
                           summary=f"{metric}{where}: last sample at {last:%H:%M:%S} UTC, then none for "
                                   f"{quiet.total_seconds() / 60:.0f} min (score {score:.2f})",
                           service=service, ts=last, weight=score)],
        attributes={"last_seen": last.isoformat(), "silent_for_s": round(quiet.total_seconds()),
                    "usual_step_s": round(trace.usual_s, 1), "longest_gap_s": round(trace.longest_s, 1),
                    "witnesses": witnesses, "instance": unit.instance, "host": unit.host, "up_zero": scraped_on,
                    "process": unit.service, "shape": "silence", "direction": -1, "change_time": last.isoformat()},
    )


def without_planned_stops(signals: list[Signal], events: Iterable[ChangeEvent]) -> list[Signal]:
    """``signals`` less the ``metric.silence`` ones of a component (or its process) changed within
    ``PLANNED_BEFORE`` before it stopped reporting or ``PLANNED_AFTER`` after: a stop on purpose."""
    changed: dict[str, list[datetime]] = defaultdict(list)
    for e in events:
        if e.service:
            changed[e.service].append(aware(e.ts))
    out: list[Signal] = []
    for sig in signals:
        if sig.detector == DETECTOR and sig.started_at is not None:
            stopped = aware(sig.started_at)
            names = {str(n) for n in (sig.service, sig.attributes.get("process"), sig.attributes.get("host")) if n}
            if any(stopped - PLANNED_BEFORE <= ts <= stopped + PLANNED_AFTER for n in names for ts in changed.get(n, [])):
                continue
        out.append(sig)
    return out
