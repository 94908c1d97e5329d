"""Log anomaly signals for one analysis: ``detect_log_signals(logs, alert_time=..., baseline=...)``.

Per service: parse (format detected per stream), split into a baseline and a current window, mine
templates over both with one miner, then compare each template's count in the two windows:

- ``log.new_template``: seen now, never in the baseline;
- ``log.rate_surge`` / ``log.rate_drop``: rate change with an exact conditional binomial test,
  Bonferroni-adjusted for the number of templates (so scores compare across services);
- ``log.error_share``: the share of error/warning events went up (two-proportion test);
- ``log.rare``: an error/warning template that is rare overall;
- ``log.sequence``: transitions between templates never seen in the baseline (``sequence.py``).

Scores mix significance, severity and whether the template names a cause kind (``kinds.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.models import Evidence, EvidenceType, Signal
from detectors.logs.kinds import kind_of
from detectors.logs.miner import TemplateMiner
from detectors.logs.parsing import LogEvent, parse_lines
from detectors.logs.sequence import TransitionModel
from detectors.logs.stats import proportion_increase_p, rate_decrease_p, rate_increase_p, significance

log = logging.getLogger(__name__)

MAX_LINES_PER_SERVICE = 200_000
MAX_SIGNALS_PER_SERVICE = 20
MAX_EVIDENCE = 5
MIN_BASELINE_EVENTS = 20
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

    @property
    def level(self) -> str | None:
        if not self.levels:
            return None
        for lvl in ("critical", "error", "warning"):
            if self.levels.get(lvl, 0) * 2 >= sum(self.levels.values()):
                return lvl
        return max(self.levels, key=lambda k: self.levels[k])


def _split(events: list[LogEvent], alert_time: datetime | None) -> tuple[list[LogEvent], list[LogEvent]]:
    """Baseline = events well before the alert (by timestamp), else the first half."""
    stamped = [e.ts for e in events if e.ts is not None]
    if alert_time is not None and len(stamped) >= len(events) * 0.5 and stamped:
        first = min(stamped)
        before = max(alert_time - first, timedelta(0))
        lead = min(timedelta(minutes=15), max(timedelta(minutes=1), before / 4))
        cut = alert_time - lead
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


def _exposure(events: list[LogEvent]) -> float | None:
    stamped = [e.ts for e in events if e.ts is not None]
    if len(stamped) < max(2, len(events) // 2):
        return None
    span = (max(stamped) - min(stamped)).total_seconds()
    return span if span >= 1.0 else None


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


def _parse(lines: list[str], service: str, start: int = 1) -> list[LogEvent]:
    if len(lines) > MAX_LINES_PER_SERVICE:
        lines = lines[-MAX_LINES_PER_SERVICE:]
    return list(parse_lines(lines, service=service, start=start))


def detect_service_signals(
    service: str,
    lines: list[str],
    *,
    alert_time: datetime | None = None,
    baseline_lines: list[str] | None = None,
    miner: TemplateMiner | None = None,
) -> list[Signal]:
    """The log signals of one service, best first (at most ``MAX_SIGNALS_PER_SERVICE``)."""
    events = _parse(lines, service)
    if not events:
        return []
    if baseline_lines:
        base = _parse(baseline_lines, service)
        cur = events
    else:
        base, cur = _split(events, alert_time)
    if not cur:
        return []
    miner = miner or TemplateMiner()
    stats: dict[int, TemplateStats] = {}
    base_ids: list[int] = []
    cur_ids: list[int] = []
    for window, ids in ((base, base_ids), (cur, cur_ids)):
        is_cur = window is cur
        for e in window:
            mined = miner.add(mining_text(e))
            ids.append(mined.cluster_id)
            st = stats.get(mined.cluster_id)
            if st is None:
                st = stats[mined.cluster_id] = TemplateStats(mined.cluster_id)
            if is_cur:
                st.current += 1
                if len(st.examples) < MAX_EVIDENCE:
                    st.examples.append(e)
                if st.first_ts is None and e.ts is not None:
                    st.first_ts = e.ts
                st.levels[e.level] = st.levels.get(e.level, 0) + 1
            else:
                st.baseline += 1

    eb = _exposure(base) if base else None
    ec = _exposure(cur)
    if eb is None or ec is None:
        eb, ec = float(max(len(base), 1)), float(len(cur))
    tests = max(1, len(stats))
    signals: list[Signal] = []
    has_baseline = len(base) >= MIN_BASELINE_EVENTS

    for st in stats.values():
        if st.current == 0:
            if st.baseline >= 5 and has_baseline:
                p = rate_decrease_p(st.baseline, 0, eb, ec)
                sig = significance(p, tests=tests)
                if sig > 0:
                    signals.append(_template_signal(service, miner, st, "log.rate_drop", sig, p))
            continue
        if st.baseline == 0 and has_baseline:
            p = rate_increase_p(0, st.current, eb, ec)
            # novelty itself is evidence: a template never seen in a real baseline
            sig = max(significance(p, tests=tests), 0.3 if st.level in ("error", "critical", "warning") else 0.15)
            signals.append(_template_signal(service, miner, st, "log.new_template", sig, p))
            continue
        p_up = rate_increase_p(st.baseline, st.current, eb, ec)
        sig = significance(p_up, tests=tests)
        if sig > 0 and has_baseline:
            signals.append(_template_signal(service, miner, st, "log.rate_surge", sig, p_up))
            continue
        p_down = rate_decrease_p(st.baseline, st.current, eb, ec)
        sig = significance(p_down, tests=tests)
        if sig > 0 and has_baseline:
            signals.append(_template_signal(service, miner, st, "log.rate_drop", sig, p_down))
            continue
        total = st.baseline + st.current
        if (st.level in ("error", "critical", "warning") and has_baseline
                and total <= max(2, (len(base) + len(cur)) // 1000)):
            signals.append(_template_signal(service, miner, st, "log.rare", 0.2, 1.0))

    error_signal = _error_share_signal(service, base, cur, stats, miner)
    if error_signal is not None:
        signals.append(error_signal)
    if has_baseline:
        sequence_signal = _sequence_signal(service, base, base_ids, cur, cur_ids, miner)
        if sequence_signal is not None:
            signals.append(sequence_signal)
    signals.sort(key=lambda s: s.score, reverse=True)
    return signals[:MAX_SIGNALS_PER_SERVICE]


def _template_signal(
    service: str, miner: TemplateMiner, st: TemplateStats, detector: str, sig: float, p: float
) -> Signal:
    cluster = miner.clusters.get(st.template_id)
    template = cluster.template if cluster else ""
    example = st.examples[0].message if st.examples else ""
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
    title = f"{service}: {words} ({st.baseline} -> {st.current}): {short}"
    return Signal(
        source="logs", detector=detector, service=service, kind=kind, title=title,
        score=_score(sig, level, cause is not None), started_at=st.first_ts,
        evidence=_evidence(service, st.examples),
        attributes={
            "template_id": st.template_id, "template": template, "count": st.current,
            "baseline_count": st.baseline, "p_value": p, "level": level,
            "signature": cluster.signature if cluster else None,
        },
    )


def _is_problem(level: str | None) -> bool:
    return level in ("error", "critical", "warning")


def _error_share_signal(
    service: str, base: list[LogEvent], cur: list[LogEvent], stats: dict[int, TemplateStats], miner: TemplateMiner
) -> Signal | None:
    if len(base) < MIN_BASELINE_EVENTS:
        return None
    xb = sum(1 for e in base if _is_problem(e.level))
    cur_errors = [e for e in cur if _is_problem(e.level)]
    xc = len(cur_errors)
    p = proportion_increase_p(xb, len(base), xc, len(cur))
    sig = significance(p)
    if sig <= 0:
        return None
    share_b, share_c = xb / len(base), xc / len(cur)
    top = sorted((s for s in stats.values() if _is_problem(s.level) and s.current),
                 key=lambda s: s.current - s.baseline, reverse=True)
    examples = [s.examples[0] for s in top[:MAX_EVIDENCE] if s.examples]
    top_template = miner.clusters[top[0].template_id].template if top and top[0].template_id in miner.clusters else ""
    return Signal(
        source="logs", detector="log.error_share", service=service, kind="error_rate_increase",
        title=f"{service}: error/warning share of log events rose from {share_b:.1%} to {share_c:.1%}",
        score=_score(sig, "error", False), started_at=cur_errors[0].ts if cur_errors else None,
        evidence=_evidence(service, examples),
        attributes={"template_id": top[0].template_id if top else None, "template": top_template,
                    "count": xc, "baseline_count": xb, "baseline_share": share_b, "share": share_c,
                    "p_value": p},
    )


def _sequence_signal(
    service: str, base: list[LogEvent], base_ids: list[int], cur: list[LogEvent], cur_ids: list[int],
    miner: TemplateMiner,
) -> Signal | None:
    model = TransitionModel()
    model.fit_stream(base_ids, keys=[_session_key(e) for e in base])
    flagged = model.unseen_transitions(cur_ids, keys=[_session_key(e) for e in cur])
    if not flagged:
        return None
    # transitions out of templates the baseline knew well; novel templates are reported on their own
    known = [i for i, prev in flagged if model.seen_count(prev) >= 5 and model.knows(cur_ids[i])]
    if len(known) < 3:
        return None
    share = len(known) / max(1, len(cur_ids))
    sig = min(1.0, 0.2 + share * 2)
    examples = [cur[i] for i in known[:MAX_EVIDENCE]]
    first = cur[known[0]]
    tid = cur_ids[known[0]]
    return Signal(
        source="logs", detector="log.sequence", service=service, kind="log_anomaly",
        title=f"{service}: {len(known)} log events broke the usual order of templates",
        score=_score(sig, first.level, False), started_at=first.ts, evidence=_evidence(service, examples),
        attributes={"template_id": tid, "template": miner.clusters[tid].template if tid in miner.clusters else "",
                    "count": len(known), "baseline_count": 0, "share": share},
    )


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
    for service, lines in (logs or {}).items():
        try:
            found = detect_service_signals(
                str(service), list(lines or []), alert_time=alert_time,
                baseline_lines=list((baseline or {}).get(service) or []) or None,
            )
        except Exception:  # one bad stream must not hide the others
            log.exception("log signal detection failed for a service", extra={"service": service})
            continue
        out.extend(found[:max_per_service])
    out.sort(key=lambda s: s.score, reverse=True)
    return out
