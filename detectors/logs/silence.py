"""A component that stopped reporting: its log stream ended while the others went on.

Silence is evidence. A node whose lines stop (a lost host, a hung process) says nothing about it, yet an engineer
reads the gap at once: the stream was steady, it ended before the alert, and the components around it kept logging
past that moment, so the collection covers the gap and the component is what went away. Whatever its callers show
afterwards (a load balancer marking it down, reconnect storms, the load shifted to its peers) follows from that.

``stream_span`` sums up one service's parsed events (how many, first and last time, usual and longest gap, the last
lines); ``silences`` compares the spans of one analysis and returns a ``log.silence`` signal (kind ``node_failure``,
the component went away) for each stream that

- was steady: at least ``MIN_EVENTS`` timed events over at least ``MIN_LIFETIME``;
- ended before the alert and stayed silent, up to the alert (or up to where the others end, if earlier), for at
  least ``quiet_needed``: ``QUIET_MIN``, ``QUIET_GAPS`` times its usual gap and ``LONGEST_GAPS`` times its longest;
- is outlived by at least ``WITNESSES_MIN`` other streams that logged after that quiet stretch (a log that merely
  stops where its export ends is not silent: then the others stop with it);
- ended with nothing said: none of its last ``LAST_LINES`` events is an error, and none says it was shut down on
  purpose. A process that dies printing why is read by those lines (``decisive.py``), and a deliberate stop is a
  change, not a failure.

The signal is not decisive by itself: it names a candidate and when it went quiet (the onset dependency order and
the incident's start read), and a caller's line that names the component as down gets the mechanism from it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import Evidence, EvidenceType, Signal, SignalSource, aware
from detectors.logs.parsing import LogEvent

DETECTOR = "log.silence"
KIND = "node_failure"
SCORE = 0.75
MIN_EVENTS = 20
MIN_LIFETIME = timedelta(minutes=10)
QUIET_MIN = timedelta(minutes=10)
QUIET_GAPS = 20
LONGEST_GAPS = 3
WITNESSES_MIN = 2
WITNESS_MIN_EVENTS = 5
LAST_LINES = 5
_PROBLEM_LEVELS = frozenset({"error", "critical"})
# a stop on purpose: an operator's or a supervisor's shutdown, not a component that went away
_DELIBERATE_STOP = re.compile(
    r"\b(?:shutting down|shut ?down (?:requested|initiated|complete[d]?)|graceful(?:ly)? (?:shutdown|stop)|"
    r"received (?:signal )?(?:SIGTERM|SIGINT|TERM|INT)\b|signal 15\b|stopping (?:service|server|daemon)|"
    r"(?:service|server|daemon) stopped|exiting normally|maintenance mode)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StreamSpan:
    """One service's log stream, summed up: timed events, first and last time, median and longest gap (seconds)
    and its last events (for the evidence and the "nothing said" test)."""

    service: str
    events: int
    first: datetime
    last: datetime
    usual_gap_s: float
    longest_gap_s: float
    tail: tuple[LogEvent, ...]


def stream_span(service: str, events: Sequence[LogEvent]) -> StreamSpan | None:
    """The span of ``events`` (those with a time), or None when fewer than two carry a time."""
    timed = sorted((e for e in events if e.ts is not None), key=lambda e: e.ts)  # type: ignore[arg-type,return-value]
    if len(timed) < 2:
        return None
    times = [e.ts for e in timed]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]  # type: ignore[operator]
    return StreamSpan(service=service, events=len(timed), first=times[0], last=times[-1],  # type: ignore[arg-type]
                      usual_gap_s=float(statistics.median(gaps)), longest_gap_s=float(max(gaps)),
                      tail=tuple(timed[-LAST_LINES:]))


def quiet_needed(span: StreamSpan) -> timedelta:
    """How long this stream must stay quiet before its silence says something: longer than its own rhythm."""
    return max(QUIET_MIN, timedelta(seconds=QUIET_GAPS * span.usual_gap_s),
               timedelta(seconds=LONGEST_GAPS * span.longest_gap_s))


def _nothing_said(span: StreamSpan) -> bool:
    return not any(e.level in _PROBLEM_LEVELS or _DELIBERATE_STOP.search(e.message or "") for e in span.tail)


def silences(spans: Iterable[StreamSpan], *, alert_time: datetime | None = None) -> list[Signal]:
    """A ``log.silence`` signal for each stream that went quiet before the alert while the others went on."""
    spans = list(spans)
    alert = aware(alert_time) if alert_time is not None else None
    out: list[Signal] = []
    for span in spans:
        last = aware(span.last)
        if span.events < MIN_EVENTS or last - aware(span.first) < MIN_LIFETIME or not _nothing_said(span):
            continue
        if alert is not None and last >= alert:
            continue
        needed = quiet_needed(span)
        others = [o for o in spans if o.service != span.service and o.events >= WITNESS_MIN_EVENTS]
        witnesses = sorted(o.service for o in others if aware(o.last) >= last + needed)
        if len(witnesses) < WITNESSES_MIN:
            continue
        horizon = max(aware(o.last) for o in others)
        if alert is not None:
            horizon = min(horizon, alert)
        quiet = horizon - last
        if quiet < needed:
            continue
        out.append(_signal(span, last, quiet, witnesses))
    return out


def _signal(span: StreamSpan, last: datetime, quiet: timedelta, witnesses: list[str]) -> Signal:
    final = span.tail[-1]
    gap = span.usual_gap_s
    shown = ", ".join(witnesses[:3]) + (f" and {len(witnesses) - 3} more" if len(witnesses) > 3 else "")
    title = (f"{span.service}: stopped logging at {last:%H:%M:%S} and stayed silent for {quiet.total_seconds() / 60:.0f}"
             f" min (its {span.events} lines came every {gap:.0f} s or so); {shown} kept logging")
    return Signal(
        source=SignalSource.LOGS, detector=DETECTOR, service=span.service, kind=KIND, title=title, score=SCORE,
        started_at=last,
        evidence=[Evidence(id=f"log:{span.service}:{final.line_no}", type=EvidenceType.LOG,
                           summary=f"last line before the silence: {final.raw[:280]}", service=span.service,
                           ts=final.ts, weight=SCORE)],
        attributes={"last_seen": last.isoformat(), "silent_for_s": round(quiet.total_seconds()),
                    "usual_gap_s": round(gap, 1), "longest_gap_s": round(span.longest_gap_s, 1),
                    "witnesses": witnesses, "template": "stopped logging"},
    )
