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

Labels, most specific first: the triggering group (``alert_scope``, or ``{service:x,host:y}`` in a title such
as ``[Triggered on {service:checkout}] ...``), then ``tags``/``hostname``, then ``key:value`` tags written in the
title or body (``service:x``, ``kube_deployment:x``, ``pod_name:x``, ``host:x``). The service is
``common.resolve_service`` over them. Start time: the body's "last triggered at" (a re-notification's ``date``
is the re-notification's), then ``date``, ``event_time``, ``last_updated`` (epoch milliseconds as strings).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity, stable_hash
from connectors.alerts.common import (
    RAW_LINKS,
    TIME_NOTE,
    clean_links,
    first_time,
    service_from_labels,
    tags_to_labels,
)

SOURCE = "datadog"
logger = logging.getLogger(__name__)

_BRACKET = re.compile(r"^\s*\[(?P<inner>[^\[\]]*)\]\s*")
_TRANSITION = re.compile(r"^(?P<t>[A-Za-z][A-Za-z -]*?)(?:\s+on\s+\{(?P<scope>[^{}]*)\})?$")
_PRIORITY = re.compile(r"^P[1-5]$", re.IGNORECASE)
_BRACES = re.compile(r"\{(?P<tags>[^{}]*:[^{}]*)\}")
_TEXT_TAG = re.compile(
    r"(?<![\w./-])(?P<key>service|kube_deployment|kube_stateful_set|kube_daemon_set|kube_cronjob|kube_job|"
    r"kube_replica_set|pod_name|kube_namespace|kube_container_name|host|kube_node):(?P<value>[A-Za-z0-9][\w.\-]*)")
_TIME_FIELDS = ("date", "event_time", "alert_time", "last_updated", "timestamp")
_LAST_TRIGGERED = re.compile(r"last triggered at \w{3} (?P<when>\w{3} \d{1,2} \d{4} \d{2}:\d{2}:\d{2}) UTC")
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


def _title_prefix(title: str) -> tuple[str, str, str, str]:
    """``[P2] [Triggered on {service:x}] [TEST] High errors`` -> (title, transition, scope, priority)."""
    transition = scope = priority = ""
    while match := _BRACKET.match(title):
        inner = match.group("inner").strip()
        found = _TRANSITION.match(inner)
        if _PRIORITY.match(inner):
            priority = inner.upper()
        elif inner.upper() == "TEST":
            pass
        elif found and not transition and found.group("t").strip().lower() in _RESOLVED | _FIRING:
            transition, scope = found.group("t"), found.group("scope") or ""
        else:
            break
        title = title[match.end():]
    return title.strip(), transition, scope, priority


def _text_tags(*texts: str) -> dict[str, str]:
    """``service:x``-style tags written in free text, first mention wins; ``{a:b,c:d}`` groups too."""
    labels: dict[str, str] = {}
    for text in texts:
        for group in _BRACES.finditer(text):
            for key, value in tags_to_labels(group.group("tags")).items():
                if value != "1":
                    labels.setdefault(key, value)
        for match in _TEXT_TAG.finditer(text):
            labels.setdefault(match.group("key"), match.group("value").rstrip("."))
    return labels


def _last_triggered(body: str) -> datetime | None:
    match = _LAST_TRIGGERED.search(body)
    if not match:
        return None
    try:
        return datetime.strptime(match.group("when"), "%b %d %Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse(payload: dict[str, Any]) -> list[Alert]:
    if not isinstance(payload, dict):
        raise PayloadError("datadog payload: expected a JSON object")
    title, title_transition, title_scope, title_priority = _title_prefix(
        str(_field(payload, "alert_title", "title", "event_title") or ""))
    transition = str(_field(payload, "alert_transition") or "") or title_transition
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
    scope = str(_field(payload, "alert_scope") or "") or title_scope
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
    for key, value in _text_tags(title, str(_field(payload, "alert_status") or ""), body).items():
        labels.setdefault(key, value)
    priority = _field(payload, "alert_priority") or title_priority or None
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
    _set_times(alert, payload, body)
    return [alert]


def _set_times(alert: Alert, payload: dict[str, Any], body: str) -> None:
    """Start: the body's "last triggered at" (kept across re-notifications), else the event's own time; a
    recovery ends at the event's time."""
    when, note = first_time([(name, _field(payload, name)) for name in _TIME_FIELDS])
    start = _last_triggered(body) or when
    if start is not None:
        alert.starts_at = start
    elif note:
        alert.annotations[TIME_NOTE] = note
        logger.info("datadog alert without a readable time", extra={"title": alert.name[:80]})
    if alert.status == AlertStatus.RESOLVED:
        alert.ends_at = when or alert.starts_at
