"""Opsgenie outgoing webhook ("alert action data") -> Alerts.

Payload: ``{"action": "Create"|"Acknowledge"|"UnAcknowledge"|"Close"|"AddNote"|"Escalate"|...,
"alert": {alertId, message, alias, tinyId, entity, source, tags, priority, createdAt, updatedAt, note,
description, details, ...}, "source": {...}, "integrationId", "integrationName"}``. The Opsgenie
``alertId`` is the alert's identity across actions, so every action updates the same Sherlog alert.
``Create``/``UnAcknowledge`` fire, ``Acknowledge`` acknowledges, ``Close``/``Delete`` resolve; the other
actions (notes, escalations, tags, ownership) update the alert without opening anything.

Labels: ``tags`` (``key:value``) overridden by ``details``; the service is ``common.resolve_service`` over them
when it names an application, a workload or the node of a node alert, else the alert's ``entity``. Start: ``createdAt`` (Opsgenie mixes epoch milliseconds and nanoseconds).
"""

from __future__ import annotations

from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.alerts.common import (
    RAW_EXTERNAL_REFS,
    RAW_NOTE,
    RAW_UPDATE_ONLY,
    epoch_any,
    names_the_subject,
    resolve_service,
    set_start,
    str_dict,
    tags_to_labels,
)

SOURCE = "opsgenie"

_ACTIONS = {"create": AlertStatus.FIRING, "unacknowledge": AlertStatus.FIRING,
            "acknowledge": AlertStatus.ACKNOWLEDGED, "close": AlertStatus.RESOLVED,
            "delete": AlertStatus.RESOLVED}


def looks_like(payload: dict[str, Any]) -> bool:
    return "action" in payload and isinstance(payload.get("alert"), dict) and "alertId" in payload["alert"]


def _severity(priority: Any) -> Severity:
    text = str(priority or "").strip().upper()
    if text.isdigit():
        text = f"P{text}"
    return Severity.parse(text) if text else Severity.WARNING


def parse(payload: dict[str, Any]) -> list[Alert]:
    if not isinstance(payload, dict):
        raise PayloadError("opsgenie payload: expected a JSON object")
    action = str(payload.get("action") or "")
    if not action:
        raise PayloadError("opsgenie payload: missing field 'action'")
    item = payload.get("alert")
    if not isinstance(item, dict) or not item.get("alertId"):
        raise PayloadError("opsgenie payload: 'alert.alertId' is missing")
    alert_id = str(item["alertId"])
    details = str_dict(item.get("details"), field="alert.details") if isinstance(item.get("details"), dict) else {}
    labels = {**tags_to_labels(item.get("tags")), **details}
    message = str(item.get("message") or "")
    entity = str(item.get("entity") or "")
    choice = resolve_service(labels, alertname=labels.get("alertname") or message)
    service = (choice.service if names_the_subject(choice, alertname=labels.get("alertname") or message)
               else entity or choice.service) or None
    labels.setdefault("alertname", message or f"Opsgenie alert {item.get('tinyId') or alert_id}")
    if service:
        labels.setdefault("service", service)
    if item.get("alias"):
        labels["alias"] = str(item["alias"])
    annotations: dict[str, str] = {"action": action}
    if item.get("username"):
        annotations["user"] = str(item["username"])
    raw: dict[str, Any] = {"tinyId": item.get("tinyId"), "alias": item.get("alias"), "action": action,
                           "integrationName": payload.get("integrationName"),
                           RAW_EXTERNAL_REFS: {"opsgenie": alert_id}}
    status = _ACTIONS.get(action.lower())
    if status is None:
        raw[RAW_UPDATE_ONLY] = True
        status = AlertStatus.FIRING
    if item.get("note"):
        annotations["note"] = str(item["note"])
        raw[RAW_NOTE] = str(item["note"])
    if action.lower() == "escalate" and payload.get("escalationName"):
        annotations["escalation"] = str(payload["escalationName"])
    alert = Alert(
        source=SOURCE,
        fingerprint=f"og:{alert_id}",
        status=status,
        name=message or labels["alertname"],
        service=service,
        severity=_severity(item.get("priority")),
        summary=message,
        description=str(item.get("description") or ""),
        labels=labels,
        annotations=annotations,
        external_id=alert_id,
        raw=raw,
    )
    set_start(alert, [("createdAt", item.get("createdAt"))])
    if status == AlertStatus.RESOLVED:
        alert.ends_at = epoch_any(item.get("updatedAt"), field="alert.updatedAt")
    return [alert]
