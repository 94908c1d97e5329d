"""Template-based summaries, postmortem drafts and answers (used when no LLM is configured)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.domain import Analysis, EvidenceType, Incident, IncidentContext


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def _ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "unknown time"


def summarize(*, context: IncidentContext, analysis: Analysis) -> str:
    """A few sentences an on-call engineer can read in the channel."""
    inc = context.incident
    subject = inc.title or (inc.alerts[0].name if inc.alerts else "Incident")
    where = f" on {inc.service}" if inc.service else ""
    lines = [f"{subject}{where} (severity {inc.severity.value}, since {_ts(context.alert_time)})."]
    top = analysis.top
    if top is None or not analysis.enough_evidence:
        lines.append("Not enough evidence for a root cause yet.")
        if top is not None:
            lines.append(f"Weak lead: {top.title} ({_pct(top.confidence)}).")
    else:
        lines.append(f"Most likely cause: {top.title} ({top.kind}, confidence {_pct(top.confidence)}).")
        cited = [e.summary for e in top.evidence[:3]]
        if cited:
            lines.append("Evidence: " + "; ".join(cited) + ".")
        others = [f"{h.kind} on {h.service} ({_pct(h.confidence)})" for h in analysis.hypotheses[1:3]]
        if others:
            lines.append("Also possible: " + ", ".join(others) + ".")
    if analysis.category.label != "unknown":
        lines.append(f"Category: {analysis.category.label}.")
    if analysis.recommendations:
        lines.append(f"First step: {analysis.recommendations[0].text}.")
    if analysis.lacked:
        lines.append("Missing inputs: " + ", ".join(analysis.lacked) + ".")
    return " ".join(line.rstrip(".") + "." for line in lines)


def template_postmortem(incident: Incident, analysis: Analysis) -> str:
    """A Markdown postmortem skeleton: summary, timeline, impact, cause, resolution, follow-ups."""
    top = analysis.top
    cause_service = incident.confirmed_service or (top.service if top else None)
    cause_kind = incident.confirmed_kind or (top.kind if top else None)
    confirmed = incident.confirmed_kind is not None
    out = [f"# Postmortem: {incident.title or incident.id}", ""]
    out += ["## Summary", "", analysis.summary or "To be written.", ""]
    out += ["## Timeline (UTC)", ""]
    events: list[tuple[datetime, str]] = []
    if incident.started_at:
        events.append((incident.started_at, "Incident started"))
    for alert in incident.alerts:
        events.append((alert.starts_at, f"Alert fired: {alert.name or alert.summary}"))
    for sig in analysis.signals:
        if sig.started_at and sig.source in ("logs", "metrics", "changes"):
            events.append((sig.started_at, f"{sig.source}: {sig.title}"))
    if incident.acknowledged_at:
        events.append((incident.acknowledged_at, "Acknowledged"))
    if incident.resolved_at:
        events.append((incident.resolved_at, "Resolved"))
    for ts, what in sorted(events, key=lambda e: e[0])[:20]:
        out.append(f"- {ts:%Y-%m-%d %H:%M:%S} {what}")
    if not events:
        out.append("- (no timestamps recorded)")
    out += ["", "## Impact", ""]
    duration = ""
    if incident.resolved_at and (incident.started_at or incident.alerts):
        start = incident.started_at or min(a.starts_at for a in incident.alerts)
        minutes = (incident.resolved_at - start) / timedelta(minutes=1)
        duration = f" for {minutes:.0f} minutes"
    out.append(f"Severity {incident.severity.value} on {incident.service or 'the affected service'}{duration}.")
    out += ["", "## Root cause", ""]
    if cause_kind and cause_service:
        state = "Confirmed" if confirmed else f"Suspected (confidence {_pct(top.confidence) if top else '?'})"
        out.append(f"{state}: {cause_kind} on {cause_service}.")
        if top:
            out += [f"- {e.summary}" for e in top.evidence[:5]]
    else:
        out.append("Unknown: not enough evidence.")
    out += ["", "## Resolution", "", incident.resolution or "To be written.", ""]
    out += ["## Follow-ups", ""]
    follow = [r.text for r in analysis.recommendations[:5]]
    out += [f"- [ ] {t}" for t in follow] or ["- [ ] To be decided"]
    return "\n".join(out) + "\n"


_CHANGED = re.compile(r"\b(chang|deploy|releas|rollout|config|flag)", re.I)


def answer_from_template(question: str, context: IncidentContext, analysis: Analysis) -> str:
    """Answer a free-text question from the evidence alone."""
    if _CHANGED.search(question):
        changes = [
            f"- {_ts(e.ts)} {e.kind} {e.service or ''}: {e.text}".rstrip(": ")
            for e in sorted(context.events, key=lambda e: e.ts)
        ]
        changes += [
            f"- {_ts(s.started_at)} {s.title}" for s in analysis.signals if s.source == "changes"
        ]
        if not changes:
            return "No deploys, configuration or flag changes were recorded around this incident."
        return "Changes recorded around this incident:\n" + "\n".join(dict.fromkeys(changes))
    top = analysis.top
    if top is None:
        return "Not enough evidence to answer yet: no hypothesis stands out."
    evid = [
        f"- [{e.id}] {e.summary}" for e in top.evidence if e.type is not EvidenceType.ALERT
    ][:5]
    head = (
        f"Most likely: {top.title} ({top.kind}, confidence {_pct(top.confidence)})."
        if analysis.enough_evidence
        else f"Not enough evidence for a firm answer; best lead: {top.title} ({_pct(top.confidence)})."
    )
    return head + ("\nEvidence:\n" + "\n".join(evid) if evid else "")
