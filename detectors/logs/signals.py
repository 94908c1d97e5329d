"""Log anomaly signals for one analysis: ``detect_log_signals(logs, alert_time=..., baseline=...)``.

Per service: parse (format detected per stream), split into a baseline and a current window, mine
templates over both with one miner, then compare each template's count in the two windows:

- ``log.new_template``: seen now, never in the baseline;
- ``log.rate_surge`` / ``log.rate_drop``: rate change with an exact conditional binomial test,
  Bonferroni-adjusted for the number of templates (so scores compare across services);
- ``log.error_share``: the share of error/warning events went up (two-proportion test);
- ``log.rare``: an error/warning template that is rare overall;
- ``log.sequence``: transitions between templates never seen in the baseline (``sequence.py``);
- ``log.silence``: a stream that went quiet before the alert while the others went on (``silence.py``).

Scores mix significance, severity and whether the template names a cause kind (``kinds.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import Evidence, EvidenceType, Signal, SignalSource
from detectors.logs.correlation import annotate_onsets
from detectors.logs.kinds import kind_of
from detectors.logs.miner import TemplateMiner
from detectors.logs.parsing import LogEvent, parse_lines
from detectors.logs.sequence import TransitionModel
from detectors.logs.silence import StreamSpan, silences, stream_span
from detectors.logs.stats import proportion_increase_p, rate_decrease_p, rate_increase_p, significance

log = logging.getLogger(__name__)

MAX_LINES_PER_SERVICE = 200_000
MAX_SIGNALS_PER_SERVICE = 20
MAX_EVIDENCE = 5
MIN_BASELINE_EVENTS = 20
LATE_ONSET = timedelta(minutes=10)  # a problem template first seen this far into a steady baseline began late
ONSET_SHARE = 0.25  # a template carries an error-share rise when it adds this share of the largest template's excess
_SEVERITY = {"critical": 1.0, "error": 1.0, "warning": 0.7, "info": 0.4, "debug": 0.2, None: 0.45}
_EXCEPTION_LINE = re.compile(r"^(?:Caused by: )?[\w$.]+(?:Error|Exception|Throwable)\b")


def mining_text(event: LogEvent) -> str:
    """What the miner sees: the first line, plus the exception lines of a joined stack trace."""
    message = event.message
    if "\n" not in message:
        return message
    lines = message.split("\n")
    extra = [ln for ln in lines[1:] if _EXCEPTION_LINE.match(ln)][:2]
    return " ".join([lines[0], *extra])


@dataclass(slots=True)
class TemplateStats:
    template_id: int
    baseline: int = 0
    current: int = 0
    examples: list[LogEvent] = field(default_factory=list)
    first_ts: datetime | None = None
    levels: dict[str | None, int] = field(default_factory=dict)
    # its earliest line in the baseline, how many of the service's lines came before that, and its first examples there
    base_first_ts: datetime | None = None
    base_before: int = 0
    base_examples: list[LogEvent] = field(default_factory=list)

    @property
    def level(self) -> str | None:
        if not self.levels:
            return None
        for lvl in ("critical", "error", "warning"):
            if self.levels.get(lvl, 0) * 2 >= sum(self.levels.values()):
                return lvl
        return max(self.levels, key=lambda k: self.levels[k])


def baseline_cut(first: datetime, alert_time: datetime) -> datetime:
    """Where the baseline ends: a quarter of the time before the alert, between 1 and 15 minutes before it."""
    before = max(alert_time - first, timedelta(0))
    lead = min(timedelta(minutes=15), max(timedelta(minutes=1), before / 4))
    return alert_time - lead


def _split(events: list[LogEvent], alert_time: datetime | None) -> tuple[list[LogEvent], list[LogEvent]]:
    """Baseline = events well before the alert (by timestamp), else the first half."""
    stamped = [e.ts for e in events if e.ts is not None]
    if alert_time is not None and len(stamped) >= len(events) * 0.5 and stamped:
        cut = baseline_cut(min(stamped), alert_time)
        base: list[LogEvent] = []
        cur: list[LogEvent] = []
        in_base = True
        for e in events:
            if e.ts is not None:
                in_base = e.ts < cut
            (base if in_base else cur).append(e)
        if len(base) >= MIN_BASELINE_EVENTS and cur:
            return base, cur
    half = len(events) // 2
    return events[:half], events[half:]


def _evidence(service: str, events: Iterable[LogEvent]) -> list[Evidence]:
    out = []
    for e in events:
        detail = e.message[:2000] if e.lines > 1 else None
        out.append(Evidence(id=f"log:{service}:{e.line_no}", type=EvidenceType.LOG, summary=e.raw[:300],
                            service=service, ts=e.ts, detail=detail))
    return out


def _score(sig: float, level: str | None, cause: bool) -> float:
    sev = _SEVERITY.get(level, 0.45)
    value = sig * (0.45 + 0.4 * sev) + (0.15 * sig if cause else 0.0)
    return round(max(0.0, min(1.0, value)), 4)


def _parse(lines: list[str], service: str) -> list[LogEvent]:
    start = 1
    if len(lines) > MAX_LINES_PER_SERVICE:  # keep the newest lines, and their line numbers
        start = len(lines) - MAX_LINES_PER_SERVICE + 1
        lines = lines[-MAX_LINES_PER_SERVICE:]
    return list(parse_lines(lines, service=service, start=start))


class LogComparison:
    """Baseline and current events of one service, streamed through one miner.

    Keeps counts, levels, time spans and up to five example events per template, never the lines,
    so it works on streams larger than memory. Feed every baseline event first, then the current ones.
    """

    def __init__(self, service: str, *, miner: TemplateMiner | None = None) -> None:
        self.service = service
        self.miner = miner or TemplateMiner()
        self.base = WindowSummary()
        self.cur = WindowSummary()
        self.stats: dict[int, TemplateStats] = {}
        self.transitions = TransitionModel()
        self._base_last: dict[str, int] = {}
        self._cur_last: dict[str, int] = {}
        self._pairs_aliases = 0
        self.broken_order: list[LogEvent] = []
        self.broken_order_count = 0
        self.broken_order_first: int | None = None

    def _mine(self, event: LogEvent, cluster_id: int | None) -> TemplateStats:
        cid = self.miner.add(mining_text(event)).cluster_id if cluster_id is None else cluster_id
        st = self.stats.get(cid)
        if st is None:
            st = self.stats[cid] = TemplateStats(cid)
        return st

    def add_baseline(self, event: LogEvent, cluster_id: int | None = None) -> None:
        """One baseline event (``cluster_id`` when the caller mined it already, e.g. in a batch)."""
        st = self._mine(event, cluster_id)
        st.baseline += 1
        if event.ts is not None and (st.base_first_ts is None or event.ts < st.base_first_ts):
            st.base_first_ts, st.base_before = event.ts, self.base.events
        if len(st.base_examples) < MAX_EVIDENCE and _is_problem(event.level):
            st.base_examples.append(event)
        self.base.add(event)
        key = _session_key(event)
        prev = self._base_last.get(key, -1)
        self.transitions.pairs.add((prev, st.template_id))
        self.transitions.counts[st.template_id] += 1
        self._base_last[key] = st.template_id

    def add_current(self, event: LogEvent, cluster_id: int | None = None) -> None:
        st = self._mine(event, cluster_id)
        st.current += 1
        if len(st.examples) < MAX_EVIDENCE:
            st.examples.append(event)
        if st.first_ts is None and event.ts is not None:
            st.first_ts = event.ts
        st.levels[event.level] = st.levels.get(event.level, 0) + 1
        self.cur.add(event)
        self._check_order(event, st.template_id)

    def _check_order(self, event: LogEvent, tid: int) -> None:
        if not self.transitions.pairs:
            return
        resolve = self.miner.resolve
        if len(self.miner._alias) != self._pairs_aliases:  # merges renamed some templates
            self.transitions.pairs = {(resolve(a) if a >= 0 else a, resolve(b)) for a, b in self.transitions.pairs}
            counts = self.transitions.counts
            self.transitions.counts = type(counts)()
            for k, v in counts.items():
                self.transitions.counts[resolve(k)] += v
            self._pairs_aliases = len(self.miner._alias)
        key = _session_key(event)
        prev = self._cur_last.get(key)
        self._cur_last[key] = tid
        if prev is None:
            return
        prev, tid = resolve(prev), resolve(tid)
        if ((prev, tid) not in self.transitions.pairs and self.transitions.seen_count(prev) >= 5
                and self.transitions.knows(tid)):
            self.broken_order_count += 1
            if self.broken_order_first is None:
                self.broken_order_first = tid
            if len(self.broken_order) < MAX_EVIDENCE:
                self.broken_order.append(event)

    def _merged_stats(self) -> dict[int, TemplateStats]:
        """Stats keyed by the surviving template id (templates merged while streaming are summed)."""
        out: dict[int, TemplateStats] = {}
        for cid, st in self.stats.items():
            final = self.miner.resolve(cid)
            into = out.get(final)
            if into is None:
                st.template_id = final
                out[final] = st
                continue
            into.baseline += st.baseline
            into.current += st.current
            into.examples = sorted(into.examples + st.examples, key=lambda e: e.line_no)[:MAX_EVIDENCE]
            if st.first_ts is not None and (into.first_ts is None or st.first_ts < into.first_ts):
                into.first_ts = st.first_ts
            if st.base_first_ts is not None and (into.base_first_ts is None or st.base_first_ts < into.base_first_ts):
                into.base_first_ts, into.base_before = st.base_first_ts, st.base_before
            into.base_examples = (into.base_examples + st.base_examples)[:MAX_EVIDENCE]
            for lvl, n in st.levels.items():
                into.levels[lvl] = into.levels.get(lvl, 0) + n
        return out

    def signals(self) -> list[Signal]:
        """The service's signals, best first (at most ``MAX_SIGNALS_PER_SERVICE``)."""
        if not self.cur.events:
            return []
        service, miner = self.service, self.miner
        stats = self._merged_stats()
        eb, ec = self.base.exposure(), self.cur.exposure()
        if eb is None or ec is None:
            eb, ec = float(max(self.base.events, 1)), float(self.cur.events)
        tests = max(1, len(stats))
        has_baseline = self.base.events >= MIN_BASELINE_EVENTS
        total_events = self.base.events + self.cur.events
        signals: list[Signal] = []
        for st in stats.values():
            if not has_baseline:
                break
            if st.current == 0:
                if st.baseline >= 5:
                    p = rate_decrease_p(st.baseline, 0, eb, ec)
                    sig = significance(p, tests=tests)
                    if sig > 0:
                        signals.append(_template_signal(service, miner, st, "log.rate_drop", sig, p))
                continue
            late = self._late_onset(st)
            if late is not None:
                signals.append(late)
                continue
            if st.baseline == 0:
                p = rate_increase_p(0, st.current, eb, ec)
                # novelty itself is evidence: a template never seen in a real baseline
                floor = 0.3 if _is_problem(st.level) else 0.15
                sig = max(significance(p, tests=tests), floor)
                signals.append(_template_signal(service, miner, st, "log.new_template", sig, p))
                continue
            p_up = rate_increase_p(st.baseline, st.current, eb, ec)
            sig = significance(p_up, tests=tests)
            if sig > 0:
                signals.append(_template_signal(service, miner, st, "log.rate_surge", sig, p_up))
                continue
            p_down = rate_decrease_p(st.baseline, st.current, eb, ec)
            sig = significance(p_down, tests=tests)
            if sig > 0:
                signals.append(_template_signal(service, miner, st, "log.rate_drop", sig, p_down))
                continue
            if _is_problem(st.level) and st.baseline + st.current <= max(2, total_events // 1000):
                signals.append(_template_signal(service, miner, st, "log.rare", 0.2, 1.0))
        error_signal = self._error_share_signal(stats)
        if error_signal is not None:
            signals.append(error_signal)
        sequence_signal = self._sequence_signal() if has_baseline else None
        if sequence_signal is not None:
            signals.append(sequence_signal)
        signals.sort(key=lambda s: s.score, reverse=True)
        return signals[:MAX_SIGNALS_PER_SERVICE]

    def _late_onset(self, st: TemplateStats) -> Signal | None:
        """A problem template absent from the first ``LATE_ONSET`` or more of a steady baseline that then appears and
        goes on into the current window, too often for chance to have kept it out of the time before (p < 0.05), began
        the incident there, however long before the alert (an alert raised
        from customers' reports an hour late): it is read as new from its first line, not as a baseline habit."""
        first, began = self.base.first_ts, st.base_first_ts
        if (not st.current or first is None or began is None or not _is_problem(st.level)
                or began - first < LATE_ONSET or st.base_before < MIN_BASELINE_EVENTS):
            return None
        end = self.cur.last_ts or began
        before, after = (began - first).total_seconds(), max(1.0, (end - began).total_seconds())
        p = rate_increase_p(0, st.baseline + st.current, before, after)
        if significance(p) <= 0.0:
            return None  # a sporadic line whose first showing says nothing (p >= 0.05): the usual comparison reads it
        sig = max(significance(p), 0.3)
        shown = TemplateStats(st.template_id, baseline=0, current=st.baseline + st.current,
                              examples=(st.base_examples + st.examples)[:MAX_EVIDENCE], first_ts=began,
                              levels=dict(st.levels))
        return _template_signal(self.service, self.miner, shown, "log.new_template", sig, p)

    def _error_share_signal(self, stats: dict[int, TemplateStats]) -> Signal | None:
        base, cur, service = self.base, self.cur, self.service
        if base.events < MIN_BASELINE_EVENTS:
            return None
        p = proportion_increase_p(base.problems, base.events, cur.problems, cur.events)
        sig = significance(p)
        if sig <= 0:
            return None
        share_b, share_c = base.problems / base.events, cur.problems / cur.events
        top = sorted((s for s in stats.values() if _is_problem(s.level) and s.current),
                     key=lambda s: s.current - s.baseline, reverse=True)
        examples = [s.examples[0] for s in top[:MAX_EVIDENCE] if s.examples]
        top_cluster = self.miner.clusters.get(top[0].template_id) if top else None
        # onset: the first event of the problem templates that carry the rise, not of any warning in the window
        # (a stray error that always comes and goes, one new warning: not when the rise began)
        scale = cur.events / max(1, base.events)
        excess = [s.current - s.baseline * scale for s in top[:MAX_EVIDENCE]]
        carried = ONSET_SHARE * max(excess, default=0.0)
        onsets = [s.first_ts for s, more in zip(top[:MAX_EVIDENCE], excess, strict=True)
                  if s.first_ts is not None and more > 0 and more >= carried]
        started = min(onsets) if onsets else cur.first_problem_ts
        return Signal(
            source=SignalSource.LOGS, detector="log.error_share", service=service, kind="error_rate_increase",
            title=f"{service}: error/warning share of log events rose from {share_b:.1%} to {share_c:.1%}",
            score=_score(sig, "error", False), started_at=started,
            evidence=_evidence(service, examples),
            attributes={"template_id": top[0].template_id if top else None,
                        "template": top_cluster.template if top_cluster else "",
                        "count": cur.problems, "baseline_count": base.problems, "baseline_share": share_b,
                        "share": share_c, "p_value": p},
        )

    def _sequence_signal(self) -> Signal | None:
        count = self.broken_order_count
        if count < 3 or not self.broken_order:
            return None
        share = count / max(1, self.cur.events)
        sig = min(1.0, 0.2 + share * 2)
        first = self.broken_order[0]
        tid = self.miner.resolve(self.broken_order_first or 0)
        cluster = self.miner.clusters.get(tid)
        return Signal(
            source=SignalSource.LOGS, detector="log.sequence", service=self.service, kind="log_anomaly",
            title=f"{self.service}: {count} log events broke the usual order of templates",
            score=_score(sig, first.level, False), started_at=first.ts,
            evidence=_evidence(self.service, self.broken_order),
            attributes={"template_id": tid, "template": cluster.template if cluster else "",
                        "count": count, "baseline_count": 0, "share": share},
        )


@dataclass(slots=True)
class WindowSummary:
    events: int = 0
    problems: int = 0
    stamped: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    first_problem_ts: datetime | None = None

    def add(self, event: LogEvent) -> None:
        self.events += 1
        ts = event.ts
        if ts is not None:
            self.stamped += 1
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
        if _is_problem(event.level):
            self.problems += 1
            if self.first_problem_ts is None:
                self.first_problem_ts = ts

    def exposure(self) -> float | None:
        """Seconds the window spans (None when too few events carry a time)."""
        if self.first_ts is None or self.last_ts is None or self.stamped < max(2, self.events // 2):
            return None
        span = (self.last_ts - self.first_ts).total_seconds()
        return span if span >= 1.0 else None


def detect_service_signals(
    service: str,
    lines: list[str],
    *,
    alert_time: datetime | None = None,
    baseline_lines: list[str] | None = None,
    miner: TemplateMiner | None = None,
) -> list[Signal]:
    """The log signals of one service, best first (at most ``MAX_SIGNALS_PER_SERVICE``)."""
    return _service_pass(service, lines, alert_time=alert_time, baseline_lines=baseline_lines, miner=miner)[0]


def _service_pass(
    service: str,
    lines: list[str],
    *,
    alert_time: datetime | None = None,
    baseline_lines: list[str] | None = None,
    miner: TemplateMiner | None = None,
) -> tuple[list[Signal], StreamSpan | None]:
    """The service's signals and the span of its stream (``silence.stream_span``)."""
    events = _parse(lines, service)
    if not events:
        return [], None
    span = stream_span(service, events)
    if baseline_lines:
        base = _parse(baseline_lines, service)
        cur = events
    else:
        base, cur = _split(events, alert_time)
    comparison = LogComparison(service, miner=miner)
    ids = comparison.miner.add_many([mining_text(e) for e in (*base, *cur)])  # one batch: the fast path
    for e, cid in zip(base, ids, strict=False):
        comparison.add_baseline(e, cid)
    for e, cid in zip(cur, ids[len(base):], strict=True):
        comparison.add_current(e, cid)
    return comparison.signals(), span


def _template_signal(
    service: str, miner: TemplateMiner, st: TemplateStats, detector: str, sig: float, p: float
) -> Signal:
    cluster = miner.clusters.get(st.template_id)
    template = cluster.template if cluster else ""
    # the whole example line, not only its message: structured logs put the reason in other fields
    # (logfmt ``err="... no space left on device"``, JSON ``"error": ...``)
    example = f"{st.examples[0].message}\n{st.examples[0].raw}" if st.examples else ""
    cause = kind_of(f"{template}\n{example}")
    level = st.level
    if detector == "log.rate_drop":
        kind = "traffic_drop" if level in (None, "info", "debug") else "log_anomaly"
        cause = None
    else:
        kind = cause or ("error_rate_increase" if level in ("error", "critical") else "log_anomaly")
    words = {
        "log.new_template": "new log template",
        "log.rate_surge": "log template surged",
        "log.rate_drop": "log template dropped",
        "log.rare": "rare error template",
    }[detector]
    short = template if len(template) <= 120 else template[:117] + "..."
    seen = st.base_first_ts or st.first_ts  # the template's first line in the whole log
    title = f"{service}: {words} ({st.baseline} -> {st.current}): {short}"
    return Signal(
        source=SignalSource.LOGS, detector=detector, service=service, kind=kind, title=title,
        score=_score(sig, level, cause is not None), started_at=st.first_ts,
        evidence=_evidence(service, st.examples),
        attributes={
            "template_id": st.template_id, "template": template, "count": st.current,
            "first_seen": seen.isoformat() if seen is not None else None,
            "baseline_count": st.baseline, "p_value": p, "level": level,
            "signature": cluster.signature if cluster else None,
        },
    )


def _is_problem(level: str | None) -> bool:
    return level in ("error", "critical", "warning")


_SESSION_FIELDS = ("trace_id", "traceId", "request_id", "requestId", "session", "session_id", "thread", "pid")


def _session_key(event: LogEvent) -> str:
    fields = event.fields
    if fields:
        for key in _SESSION_FIELDS:
            value = fields.get(key)
            if value:
                return str(value)
    return ""


def detect_log_signals(
    logs: dict[str, list[str]],
    *,
    alert_time: datetime | None = None,
    baseline: dict[str, list[str]] | None = None,
    max_per_service: int = MAX_SIGNALS_PER_SERVICE,
) -> list[Signal]:
    """Anomaly signals of every service's logs, best first. Never raises on bad input lines."""
    out: list[Signal] = []
    spans: list[StreamSpan] = []
    for service, lines in (logs or {}).items():
        try:
            found, span = _service_pass(
                str(service), list(lines or []), alert_time=alert_time,
                baseline_lines=list((baseline or {}).get(service) or []) or None,
            )
        except Exception:  # one bad stream must not hide the others
            log.exception("log signal detection failed for a service", extra={"service": service})
            continue
        out.extend(found[:max_per_service])
        if span is not None:
            spans.append(span)
    out.extend(silences(spans, alert_time=alert_time))
    annotate_onsets(out)
    out.sort(key=lambda s: s.score, reverse=True)
    return out
