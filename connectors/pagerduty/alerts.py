"""PagerDuty V3 webhooks -> Alerts.

A V3 webhook is ``{"event": {id, event_type, resource_type, occurred_at, agent, client, data}}``
(https://developer.pagerduty.com/docs/webhooks/v3-overview/). Incident events carry the incident in
``data`` (``incident.triggered``, ``.acknowledged``, ``.unacknowledged``, ``.resolved``, ``.reopened``,
``.escalated``, ``.priority_updated``, ``.reassigned``, ...); ``incident.annotated`` carries a note whose
``data.incident`` references the incident. One PagerDuty incident is one alert to Sherlog: its identity
is the incident id, so every event about it updates the same alert.

Events about other resources (``service.updated``, ...) hold no alert: ``parse`` returns ``[]`` and the
intake answers 202 without opening anything (PagerDuty retries non-2xx answers).

Service: the incident carries no labels, but its details may (``body.details``, ``custom_details``, an alert's
``body.cef_details.details``, ``custom_fields`` of ``incident.custom_field_values.updated``, or the ``firing``
text Alertmanager's PagerDuty integration writes: ``Labels:\n - pod = ...``). ``common.resolve_service`` over
them names the service when they name an application, a workload or the node of a node alert
(``common.names_the_subject``); otherwise the PagerDuty service's name.
Start: the incident's ``created_at``, else the event's ``occurred_at``.

Signature: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>[,v1=...]``; see
``verify_signature``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.alerts.common import (
    RAW_EXTERNAL_REFS,
    RAW_LINKS,
    RAW_NOTE,
    RAW_UPDATE_ONLY,
    as_list,
    clean_links,
    names_the_subject,
    parse_time,
    resolve_service,
    set_start,
    str_dict,
    text_or_none,
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


_LABEL_LINE = re.compile(r"^\s*-\s*(?P<key>[A-Za-z_][\w.]*)\s*=\s*(?P<value>\S.*?)\s*$", re.MULTILINE)


def _details(incident: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """Labels found in the incident's details, custom fields and alerts (first seen wins)."""
    found: dict[str, str] = {}
    sources: list[Any] = [incident.get("custom_details"), _path(incident, "body", "details")]
    for alert in as_list(incident.get("alerts")):
        sources += [_path(alert, "body", "details"), _path(alert, "body", "cef_details", "details")]
    for source in sources:
        for key, value in (source.items() if isinstance(source, dict) else []):
            if isinstance(value, str) and key in {"firing", "resolved"}:
                for match in _LABEL_LINE.finditer(value):
                    found.setdefault(match.group("key"), match.group("value"))
            elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
                found.setdefault(str(key), str(value))
    for field in as_list(data.get("custom_fields")):
        if isinstance(field, dict) and field.get("name") and isinstance(field.get("value"), (str, int, float)):
            found.setdefault(str(field["name"]), str(field["value"]))
    return str_dict(found, field="details")


def _path(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


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
    details = _details(incident, data)
    pd_service = _ref_summary(incident.get("service"))
    alertname = details.get("alertname", title)
    choice = resolve_service(details, alertname=alertname)
    service = choice.service if names_the_subject(choice, alertname=alertname) else pd_service or choice.service
    priority = _ref_summary(incident.get("priority"))
    urgency = str(incident.get("urgency") or "")
    severity = Severity.parse(priority) if priority else (
        Severity.HIGH if urgency == "high" else Severity.WARNING if urgency == "low" else Severity.WARNING)
    labels = {**details, "alertname": title, "pagerduty_incident": str(incident_id)}
    if service:
        labels["service"] = service
    if pd_service:
        labels["pagerduty_service"] = pd_service
    if priority:
        labels["priority"] = priority
    if urgency:
        labels["urgency"] = urgency
    for team in as_list(incident.get("teams")):
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
        generator_url=text_or_none(incident.get("html_url")),
        external_id=str(incident_id),
        raw=raw,
    )
    set_start(alert, [("created_at", incident.get("created_at")), ("occurred_at", event.get("occurred_at"))])
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
