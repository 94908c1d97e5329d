"""The incident page's view: one time-ordered list of alerts, signals, analyses, chat posts,
acknowledgement, feedback and resolution, plus links to the chat threads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import Analysis, Feedback, Incident


@dataclass(frozen=True)
class TimelineEntry:
    ts: datetime
    kind: str  # alert, signal, analysis, chat, ack, feedback, resolved, opened
    title: str
    detail: str = ""
    url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ts": self.ts.isoformat(), "kind": self.kind, "title": self.title, "detail": self.detail,
                "url": self.url}


def thread_url(post: dict[str, Any]) -> str | None:
    """A link to the chat thread: the permalink the chat surface stored, when it stored one."""
    data = post.get("data") or {}
    for key in ("permalink", "url", "web_url", "thread_url", "link"):
        value = data.get(key)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
    return None


def build_timeline(incident: Incident, analyses: list[Analysis], feedback: list[Feedback],
                   posts: list[dict[str, Any]]) -> list[TimelineEntry]:
    items: list[TimelineEntry] = [TimelineEntry(incident.created_at, "opened", "Incident opened",
                                                f"{incident.severity.value} · {incident.service or 'unknown service'}")]
    for alert in incident.alerts:
        items.append(TimelineEntry(alert.starts_at, "alert", alert.name or "alert",
                                   f"{alert.status.value} · {alert.summary or alert.description}"[:300],
                                   alert.generator_url))
    latest = analyses[-1] if analyses else None
    for signal in (latest.signals if latest else [])[:15]:
        if signal.source == "alert" or signal.started_at is None:
            continue
        items.append(TimelineEntry(signal.started_at, "signal", signal.title,
                                   f"{signal.source}/{signal.detector} · score {signal.score:.2f}"))
    for analysis in analyses:
        top = analysis.top
        items.append(TimelineEntry(analysis.created_at, "analysis", "Sherlog analysis ready",
                                   f"top cause: {top.kind} in {top.service} ({top.confidence:.0%})" if top
                                   else "no hypothesis"))
    for post in posts:
        created = post.get("created_at")
        if isinstance(created, datetime):
            items.append(TimelineEntry(created, "chat", f"Posted to {post['surface']} {post['channel']}",
                                       f"state {post['state']}", thread_url(post)))
    if incident.acknowledged_at:
        items.append(TimelineEntry(incident.acknowledged_at, "ack", "Acknowledged"))
    for fb in feedback:
        target = f" on {fb.kind} in {fb.service}" if fb.kind and fb.service else ""
        items.append(TimelineEntry(fb.created_at, "feedback", f"Feedback: {fb.vote.value}{target}",
                                   f"{fb.user} via {fb.surface}" + (f" · {fb.comment}" if fb.comment else "")))
    if incident.resolved_at:
        cause = (f"confirmed cause: {incident.confirmed_kind} in {incident.confirmed_service}"
                 if incident.confirmed_kind else "")
        items.append(TimelineEntry(incident.resolved_at, "resolved", "Resolved",
                                   " · ".join(x for x in (cause, incident.resolution or "") if x)))
    items.sort(key=lambda e: e.ts)
    return items
