"""Datadog Webhooks integration -> Alerts.

Two shapes are read:

- the default payload ``{body, last_updated, event_type, title, date, org{id,name}, id}``, whose title
  starts with the transition (``[Triggered]``, ``[Recovered]``, ``[Warn]``, ``[No Data]``, ...);
- a custom payload built from Datadog's template variables, with any of ``alert_id`` ($ALERT_ID),
  ``alert_transition`` ($ALERT_TRANSITION), ``alert_title``, ``alert_status``, ``alert_priority``,
  ``alert_scope``, ``alert_query``, ``alert_metric``, ``alert_type``, ``aggreg_key``, ``alert_cycle_key``,
  ``tags`` ($TAGS), ``hostname``, ``link``, ``event_msg``, ``date``.

Identity: the monitor id and its scope (a multi-alert monitor alerts once per group), never the event id,
which changes with every notification.
"""

from __future__ import annotations

import re
from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity, stable_hash
from connectors.alerts.common import RAW_LINKS, clean_links, epoch_any, service_from_labels, tags_to_labels

SOURCE = "datadog"

_TRANSITION = re.compile(r"^\s*\[(?P<t>[A-Za-z -]+)\]\s*")
_MONITOR = re.compile(r"monitors[#/](?P<id>\d+)")
_RESOLVED = {"recovered", "ok", "resolved", "success"}
_FIRING = {"triggered", "re-triggered", "warn", "re-warn", "no data", "re-no data", "renotify", "alert", "error",
           "warning"}


def looks_like(payload: dict[str, Any]) -> bool:
    keys = {k.lower() for k in payload}
    return ("event_type" in keys and "body" in keys and "title" in keys and "org" in keys) or (
        "alert_transition" in keys or ("alert_id" in keys and ("alert_title" in keys or "alert_status" in keys)))


def _field(payload: dict[str, Any], *names: str) -> Any:
    lowered = {k.lower(): v for k, v in payload.items()}
    for name in names:
        value = lowered.get(name)
        if value not in (None, ""):
            return value
    return None


def _strip_test(title: str) -> str:
    return re.sub(r"^\s*\[TEST\]\s*", "", title)


def parse(payload: dict[str, Any]) -> list[Alert]:
    if not isinstance(payload, dict):
        raise PayloadError("datadog payload: expected a JSON object")
    raw_title = str(_field(payload, "alert_title", "title", "event_title") or "")
    transition = str(_field(payload, "alert_transition") or "")
    match = _TRANSITION.match(raw_title)
    if match:
        transition = transition or match.group("t")
        raw_title = raw_title[match.end():]
    title = _strip_test(raw_title).strip()
    if not title:
        raise PayloadError("datadog payload: needs a title (title or alert_title)")
    transition_key = transition.strip().lower()
    status_text = str(_field(payload, "alert_status") or "").lower()
    if transition_key in _RESOLVED:
        status = AlertStatus.RESOLVED
    elif transition_key in _FIRING or not transition_key:
        status = AlertStatus.FIRING
    else:
        raise PayloadError(f"datadog payload: transition {transition!r} is not a known alert transition")
    body = str(_field(payload, "body", "event_msg") or "")
    monitor = _field(payload, "alert_id")
    if monitor is None:
        found = _MONITOR.search(body) or _MONITOR.search(str(_field(payload, "link") or ""))
        monitor = found.group("id") if found else None
    scope = str(_field(payload, "alert_scope") or "")
    labels = tags_to_labels(_field(payload, "tags"))
    hostname = _field(payload, "hostname")
    if hostname:
        labels.setdefault("host", str(hostname))
    labels["alertname"] = title
    if monitor:
        labels["monitor_id"] = str(monitor)
    if scope:
        labels["scope"] = scope
        labels.update({k: v for k, v in tags_to_labels(scope).items() if v != "1"})
    priority = _field(payload, "alert_priority")
    alert_type = str(_field(payload, "alert_type") or "").lower()
    severity = Severity.parse(priority) if priority else {
        "error": Severity.HIGH, "warning": Severity.WARNING, "info": Severity.INFO,
        "success": Severity.INFO}.get(alert_type, Severity.HIGH if transition_key.startswith(("trig", "re-trig"))
                                      else Severity.WARNING)
    identity = f"{monitor}:{scope}" if monitor else stable_hash(title, scope)
    alert = Alert(
        source=SOURCE,
        fingerprint=f"dd:{identity}",
        status=status,
        name=title,
        service=service_from_labels(labels),
        severity=severity,
        summary=title,
        description=body.replace("%%%", "").strip()[:4000],
        labels=labels,
        annotations={k: str(v) for k, v in (("transition", transition), ("query", _field(payload, "alert_query")),
                                             ("metric", _field(payload, "alert_metric")),
                                             ("status", status_text)) if v},
        generator_url=_field(payload, "link") or None,
        external_id=str(_field(payload, "id", "alert_cycle_key") or "") or None,
        raw={"event_type": _field(payload, "event_type"), "org": _field(payload, "org"),
             "aggreg_key": _field(payload, "aggreg_key"), "alert_cycle_key": _field(payload, "alert_cycle_key"),
             RAW_LINKS: clean_links(monitor=f"https://app.datadoghq.com/monitors/{monitor}" if monitor else None,
                                    link=_field(payload, "link"))},
    )
    when = _field(payload, "date", "last_updated")
    if when is not None:
        parsed = epoch_any(when, field="date")
        if parsed is not None:
            alert.starts_at = parsed
    if status == AlertStatus.RESOLVED:
        alert.ends_at = alert.starts_at
    return [alert]
