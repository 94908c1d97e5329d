"""Query text from an incident (alerts, labels, annotations, detector signals, log templates) or a question.

Most telling first: the embedding model reads only the first ~256 word pieces, so the incident title,
service and alert text lead, then the strongest signals, then log templates. Placeholders of template
miners (``<*>``, ``<NUM>``), long numbers and hex ids are removed: they differ between occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain import Incident, Signal, SignalSource, is_cause_kind

MAX_QUERY_CHARS = 1200
_NOISE_LABELS = {
    "instance",
    "pod",
    "pod_name",
    "container_id",
    "job",
    "prometheus",
    "endpoint",
    "uid",
    "id",
    "fingerprint",
    "value",
    "instance_value",
    "receiver",
    "replica",
    "__name__",
    "grafana_folder",
    "alertgroup",
    "ref_id",
    "datasource_uid",
    "rule_uid",
    "severity",
    "priority",
}
_NOISE_ANNOTATIONS = {"runbook_url", "dashboard", "dashboard_url", "panel_url", "grafana", "generator_url"}
_PLACEHOLDER = re.compile(r"<\*>|<[A-Z_]+>|\{\{[^}]*\}\}")
_HEX = re.compile(r"\b(?:0x)?[0-9a-f]{8,}\b", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\b\d[\d.:,]{4,}\b")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"<[@#!][^>]*>")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    text = _URL.sub(" ", text)
    text = _PLACEHOLDER.sub(" ", text)
    text = _HEX.sub(" ", text)
    text = _LONG_NUMBER.sub(" ", text)
    return _SPACE.sub(" ", text).strip(" .,;:-")


def _words(kind: str | None) -> str:
    return kind.replace("_", " ") if kind else ""


def _templates(signal: Signal) -> list[str]:
    out: list[str] = []
    for key in ("template", "templates", "top_templates", "message", "example"):
        value = signal.attributes.get(key)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, Sequence):
            out.extend(str(v) for v in list(value)[:3])
    if not out and signal.source == "logs":
        out.extend(e.summary for e in signal.evidence[:2])
    return out


def _dedupe(parts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for part in parts:
        text = clean(part)
        key = text.lower()
        if len(text) < 3 or key in seen:
            continue
        seen.add(key)
        out.append(text)
    return out


def _weight(signal: Signal) -> tuple[bool, bool, float]:
    """Most telling first: a decisive finding, then a signal naming a cause kind, then by score."""
    return bool(signal.attributes.get("decisive")), is_cause_kind(signal.kind), signal.score


def _evidence_parts(signals: Sequence[Signal], limit: int) -> tuple[list[str], list[str]]:
    """What the detectors found, most telling first: ``service: kind, title, log template`` per signal, and the
    services those signals are on, in that order."""
    found = [s for s in signals if s.source is not SignalSource.ALERT]
    ranked = sorted(found, key=_weight, reverse=True)[:limit]
    parts: list[str] = []
    services: list[str] = []
    for signal in ranked:
        if signal.service and signal.service not in services:
            services.append(signal.service)
        parts.append(" ".join(x for x in (_words(signal.kind), signal.title, signal.metric or "") if x))
        parts += _templates(signal)
    return parts, services


def _alert_parts(incident: Incident) -> tuple[list[str], list[str]]:
    parts: list[str] = [incident.title]
    services = [incident.service] if incident.service else []
    for alert in incident.alerts[:5]:
        parts += [alert.name, alert.summary, alert.description]
        if alert.service and alert.service not in services:
            services.append(alert.service)
        parts += [v for k, v in alert.annotations.items() if k.lower() not in _NOISE_ANNOTATIONS]
        parts += [v for k, v in alert.labels.items() if k.lower() not in _NOISE_LABELS and len(v) < 60]
    parts += [v for k, v in incident.labels.items() if k.lower() not in _NOISE_LABELS and len(v) < 60]
    return parts, services


def query_for_incident(incident: Incident, signals: Sequence[Signal] = ()) -> str:
    """Query text describing what is going on in ``incident``: what the evidence shows (the services the
    detectors found anomalous, decisive findings and cause kinds first), then what the alert says. An alert is
    often about a symptom at the edge, the same for many causes; a past incident is alike when its cause is
    what today's evidence shows."""
    evidence, evidence_services = _evidence_parts(signals, limit=8)
    alert, alert_services = _alert_parts(incident)
    services = evidence_services + [s for s in alert_services if s not in evidence_services]
    head = ["service " + " ".join(services[:4])] if services else []
    text = ". ".join(_dedupe([*head, *evidence, *alert]))
    return text[:MAX_QUERY_CHARS]


@dataclass(frozen=True)
class EvidenceProfile:
    """The causes today's detectors named, for ranking past incidents by agreement with them: ``causes`` maps
    (service, cause kind) to the strongest signal naming that kind on that service (0..1; a decisive finding
    counts fully). A past incident agrees when its root cause is one of these kinds, more when on that service."""

    causes: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def agreement(self, kinds: Iterable[str], service: str | None) -> float:
        """How strongly today's evidence names a cause of ``kinds`` (on ``service``: full; elsewhere: half)."""
        wanted = set(kinds)
        best = 0.0
        for (svc, kind), strength in self.causes.items():
            if kind in wanted:
                same = service is not None and svc.lower() == service.lower()
                best = max(best, strength if same else strength * OTHER_SERVICE_SHARE)
        return best

    def __bool__(self) -> bool:
        return bool(self.causes)


OTHER_SERVICE_SHARE = 0.5
_CHANGE_CAUSE = {"deploy": "bad_deploy", "config": "config_change"}


def evidence_profile(signals: Sequence[Signal]) -> EvidenceProfile:
    """The causes the detectors' signals name (the alert's own text is not evidence of a cause here)."""
    causes: dict[tuple[str, str], float] = {}
    for signal in signals:
        kind = _CHANGE_CAUSE.get(str(signal.kind), signal.kind) if signal.source is SignalSource.CHANGES else signal.kind
        if signal.source is SignalSource.ALERT or not signal.service or not is_cause_kind(kind):
            continue
        strength = 1.0 if signal.attributes.get("decisive") else signal.score
        key = (signal.service, str(kind))
        causes[key] = max(causes.get(key, 0.0), strength)
    return EvidenceProfile(causes)


def query_for_question(text: str) -> str:
    """Query text from a free-text chat question (mentions, links and ids removed)."""
    return clean(_MENTION.sub(" ", text))[:MAX_QUERY_CHARS]
