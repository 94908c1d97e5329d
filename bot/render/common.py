"""What every chat and mail rendering shares: confidence bars, vote tallies, truncation, links.

Pure functions over domain objects; no I/O. Slack blocks, Teams cards and e-mails all build on these
so the same Analysis reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain import Analysis, Feedback, Hypothesis, Incident, IncidentStatus, Severity, Vote
from bot.domain.links import safe_url  # noqa: F401 - re-exported for the renderers

ELLIPSIS = "…"

SEVERITY_MARK: dict[Severity, str] = {
    Severity.CRITICAL: "🔴",
    Severity.HIGH: "🟠",
    Severity.WARNING: "🟡",
    Severity.INFO: "🔵",
}


def confidence_bar(confidence: float, width: int = 10) -> str:
    """A fixed-width text bar, e.g. ``▰▰▰▰▰▰▰▱▱▱`` for 0.7 (clamped to [0, 1])."""
    value = min(1.0, max(0.0, float(confidence)))
    filled = round(value * width)
    return "▰" * filled + "▱" * (width - filled)


def percent(confidence: float) -> str:
    return f"{round(min(1.0, max(0.0, float(confidence))) * 100):d}%"


def clip(text: str, limit: int, *, suffix: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``suffix`` when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(suffix) >= limit:
        return text[:limit]
    return text[: limit - len(suffix)].rstrip() + suffix


def hypothesis_key(service: str | None, kind: str | None) -> str:
    """The key votes are tallied under: one per (service, kind)."""
    return f"{service or ''}|{kind or ''}"


@dataclass
class VoteTally:
    up: int = 0
    down: int = 0
    fixed: int = 0
    voters: dict[str, str] = field(default_factory=dict)  # user -> last vote

    @property
    def empty(self) -> bool:
        return not (self.up or self.down or self.fixed)


def tally_votes(feedback: Iterable[Feedback]) -> dict[str, VoteTally]:
    """Votes per hypothesis key; a user's later up/down vote replaces their earlier one."""
    last: dict[tuple[str, str], Vote] = {}
    fixed_by: dict[str, set[str]] = {}
    for fb in sorted(feedback, key=lambda f: f.created_at):
        key = hypothesis_key(fb.service, fb.kind)
        if fb.vote == Vote.FIXED:
            fixed_by.setdefault(key, set()).add(fb.user)
        elif fb.vote in (Vote.UP, Vote.DOWN):
            last[(key, fb.user)] = fb.vote
    out: dict[str, VoteTally] = {}
    for (key, user), vote in last.items():
        tally = out.setdefault(key, VoteTally())
        if vote == Vote.UP:
            tally.up += 1
        else:
            tally.down += 1
        tally.voters[user] = vote.value
    for key, users in fixed_by.items():
        tally = out.setdefault(key, VoteTally())
        tally.fixed = len(users)
        for user in users:
            tally.voters[user] = Vote.FIXED.value
    return out


def votes_for(votes: Mapping[str, VoteTally] | None, hypothesis: Hypothesis) -> VoteTally:
    if not votes:
        return VoteTally()
    return votes.get(hypothesis_key(hypothesis.service, hypothesis.kind), VoteTally())


def status_label(incident: Incident) -> str:
    if incident.status == IncidentStatus.RESOLVED:
        return "resolved"
    if incident.status == IncidentStatus.ACKNOWLEDGED:
        return "acknowledged"
    return "open"


def title_line(incident: Incident) -> str:
    prefix = "✅ Resolved: " if incident.status == IncidentStatus.RESOLVED else ""
    if incident.is_early_warning:
        prefix += "Early warning: "
    return f"{SEVERITY_MARK.get(incident.severity, '')} {prefix}{incident.title or 'Incident'}".strip()


def team_labels_text(analysis: Analysis) -> str:
    """``payments-team (91%), infra (64%)``: the team's own taxonomy, best first."""
    return ", ".join(f"{t.label} ({percent(t.score)})" for t in analysis.team_labels)


def facts(incident: Incident, analysis: Analysis | None) -> list[tuple[str, str]]:
    """Short (label, value) pairs describing the incident."""
    out = [
        ("Service", incident.service or "unknown"),
        ("Severity", incident.severity.value),
        ("Status", status_label(incident)),
        ("Incident", incident.id),
    ]
    started = incident.started_at or (incident.alerts[0].starts_at if incident.alerts else None)
    if started is not None:
        out.append(("Started", started.strftime("%Y-%m-%d %H:%M UTC")))
    if analysis is not None and analysis.category.label:
        out.append(("Category", f"{analysis.category.label} ({percent(analysis.category.confidence)})"))
    if analysis is not None and analysis.team_labels:
        out.append(("Team labels", team_labels_text(analysis)))
    if incident.confirmed_service or incident.confirmed_kind:
        out.append(("Confirmed cause", f"{incident.confirmed_kind or '?'} in {incident.confirmed_service or '?'}"))
    return out


def incident_link(base_url: str | None, incident_id: str) -> str | None:
    """The dashboard page of an incident (the "more" link of truncated messages)."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/incidents/{incident_id}"


def fixed_hypothesis(incident: Incident, analysis: Analysis) -> Hypothesis | None:
    """The hypothesis confirmed as the cause, when one matches the incident's confirmed cause."""
    for h in analysis.hypotheses:
        if h.service == incident.confirmed_service and h.kind == incident.confirmed_kind:
            return h
    return None
