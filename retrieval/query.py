"""Query text from an incident (alerts, labels, annotations, detector signals, log templates) or a question.

Most telling first: the embedding model reads only the first ~256 word pieces, so the incident title,
service and alert text lead, then the strongest signals, then log templates. Placeholders of template
miners (``<*>``, ``<NUM>``), long numbers and hex ids are removed: they differ between occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.domain import Incident, Signal

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


def query_for_incident(incident: Incident, signals: Sequence[Signal] = ()) -> str:
    """Query text describing what is going on in ``incident``."""
    parts: list[str] = [incident.title]
    services = {incident.service} if incident.service else set()
    for alert in incident.alerts[:5]:
        parts += [alert.name, alert.summary, alert.description]
        if alert.service:
            services.add(alert.service)
        parts += [v for k, v in alert.annotations.items() if k.lower() not in _NOISE_ANNOTATIONS]
        parts += [v for k, v in alert.labels.items() if k.lower() not in _NOISE_LABELS and len(v) < 60]
    parts += [v for k, v in incident.labels.items() if k.lower() not in _NOISE_LABELS and len(v) < 60]
    if services:
        parts.insert(1, "service " + " ".join(sorted(services)))
    ranked = sorted(signals, key=lambda s: -s.score)[:8]
    for signal in ranked:
        parts.append(f"{signal.title} {_words(signal.kind)} {signal.metric or ''}")
    for signal in ranked:
        parts += _templates(signal)
    text = ". ".join(_dedupe(parts))
    return text[:MAX_QUERY_CHARS]


def query_for_question(text: str) -> str:
    """Query text from a free-text chat question (mentions, links and ids removed)."""
    return clean(_MENTION.sub(" ", text))[:MAX_QUERY_CHARS]
