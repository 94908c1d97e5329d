"""PagerDuty V3 webhooks -> Alerts.

A V3 webhook is ``{"event": {id, event_type, resource_type, occurred_at, agent, client, data}}``
(https://developer.pagerduty.com/docs/webhooks/v3-overview/). Incident events carry the incident in
``data`` (``incident.triggered``, ``.acknowledged``, ``.unacknowledged``, ``.resolved``, ``.reopened``,
``.escalated``, ``.priority_updated``, ``.reassigned``, ...); ``incident.annotated`` carries a note whose
``data.incident`` references the incident. One PagerDuty incident is one alert to Sherlog: its identity
is the incident id, so every event about it updates the same alert.

Events about other resources (``service.updated``, ...) hold no alert: ``parse`` returns ``[]`` and the
intake answers 202 without opening anything (PagerDuty retries non-2xx answers).

Signature: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>[,v1=...]``; see
``verify_signature``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.alerts.common import (
    RAW_EXTERNAL_REFS,
    RAW_LINKS,
    RAW_NOTE,
    RAW_UPDATE_ONLY,
    clean_links,
    parse_time,
)

SOURCE = "pagerduty"
ALLOW_EMPTY = True  # events about services, not incidents, are valid payloads holding no alert

_STATUS = {"triggered": AlertStatus.FIRING, "acknowledged": AlertStatus.ACKNOWLEDGED,
           "resolved": AlertStatus.RESOLVED}
# Events that change nothing but the incident's metadata: they update the alert, never open one.
_UPDATE_ONLY = {"incident.annotated", "incident.escalated", "incident.priority_updated", "incident.reassigned",
                "incident.delegated", "incident.responder.added", "incident.responder.replied",
                "incident.status_update_published", "incident.conference_bridge.updated",
                "incident.custom_field_values.updated", "incident.workflow.started",
                "incident.workflow.completed", "incident.incident_type.changed", "incident.role_assigned",
                "incident.action_invocation.created", "incident.action_invocation.updated",
                "incident.action_invocation.terminated"}


def looks_like(payload: dict[str, Any]) -> bool:
    event = payload.get("event")
    return isinstance(event, dict) and "event_type" in event and "resource_type" in event


def _ref_summary(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("summary"):
        return str(obj["summary"])
    return None


def parse(payload: dict[str, Any]) -> list[Alert]:
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), dict):
        raise PayloadError("pagerduty payload: expected a V3 webhook {\"event\": {...}}")
    event = payload["event"]
    event_type = str(event.get("event_type") or "")
    if not event_type:
        raise PayloadError("pagerduty payload: event.event_type is missing")
    if event.get("resource_type") != "incident" or not event_type.startswith("incident."):
        return []
    data = event.get("data")
    if not isinstance(data, dict):
        raise PayloadError("pagerduty payload: event.data must be an object")
    occurred = parse_time(event.get("occurred_at"), field="event.occurred_at")
    agent = _ref_summary(event.get("agent"))
    if data.get("type") == "incident":
        incident = data
    elif isinstance(data.get("incident"), dict):
        incident = data["incident"]
    else:
        raise PayloadError(f"pagerduty payload: {event_type} event names no incident (data.incident)")
    incident_id = incident.get("id")
    if not incident_id:
        raise PayloadError("pagerduty payload: the incident has no id")
    title = str(incident.get("title") or incident.get("summary") or f"PagerDuty incident {incident_id}")
    service = _ref_summary(incident.get("service"))
    priority = _ref_summary(incident.get("priority"))
    urgency = str(incident.get("urgency") or "")
    severity = Severity.parse(priority) if priority else (
        Severity.HIGH if urgency == "high" else Severity.WARNING if urgency == "low" else Severity.WARNING)
    labels = {"alertname": title, "pagerduty_incident": str(incident_id)}
    if service:
        labels["service"] = service
    if priority:
        labels["priority"] = priority
    if urgency:
        labels["urgency"] = urgency
    for team in incident.get("teams") or []:
        if _ref_summary(team):
            labels["team"] = str(team["summary"])
            break
    annotations: dict[str, str] = {"event_type": event_type}
    if agent:
        annotations["agent"] = agent
    raw: dict[str, Any] = {
        "event_id": event.get("id"), "event_type": event_type, "number": incident.get("number"),
        "incident_key": incident.get("incident_key"),
        RAW_EXTERNAL_REFS: {"pagerduty": str(incident_id)},
        RAW_LINKS: clean_links(incident=incident.get("html_url")),
    }
    if event_type in _UPDATE_ONLY or incident.get("type") == "incident_reference":
        raw[RAW_UPDATE_ONLY] = True
    if data.get("type") == "incident_note" and data.get("content"):
        raw[RAW_NOTE] = str(data["content"])
        annotations["note"] = str(data["content"])
    status_text = str(incident.get("status") or "")
    if event_type == "incident.resolved":
        status_text = "resolved"
    elif event_type == "incident.acknowledged":
        status_text = "acknowledged"
    elif event_type in {"incident.triggered", "incident.reopened", "incident.unacknowledged"}:
        status_text = "triggered"
    status = _STATUS.get(status_text, AlertStatus.FIRING)
    alert = Alert(
        source=SOURCE,
        fingerprint=f"pd:{incident_id}",
        status=status,
        name=title,
        service=service,
        severity=severity,
        summary=title,
        description=str(data.get("content") or ""),
        labels=labels,
        annotations=annotations,
        generator_url=incident.get("html_url") or None,
        external_id=str(incident_id),
        raw=raw,
    )
    created = parse_time(incident.get("created_at"), field="data.created_at")
    if created or occurred:
        alert.starts_at = created or occurred  # type: ignore[assignment]
    if status == AlertStatus.RESOLVED:
        alert.ends_at = occurred
    return [alert]


def signature_for(body: bytes, secret: str) -> str:
    """The ``X-PagerDuty-Signature`` value PagerDuty sends for ``body`` signed with ``secret``."""
    return "v1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """True when one of the comma-separated ``v1=`` signatures matches (several during secret rotation)."""
    if not header:
        return False
    expected = signature_for(body, secret)
    return any(hmac.compare_digest(part.strip(), expected) for part in header.split(","))
