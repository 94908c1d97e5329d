"""Generic JSON alerts: one object or a list of objects with a few well-known fields.

Accepted fields (all optional but ``title``/``name``/``alertname``): ``name``, ``title``, ``service``,
``severity``, ``status`` (firing/resolved), ``summary``, ``description``, ``labels``, ``annotations``,
``starts_at``/``timestamp``, ``fingerprint``, ``url``. A custom mapping (dotted paths) can rename them.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.alerts.common import parse_time, service_from_labels, str_dict

SOURCE = "generic"


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


DEFAULT_MAPPING = {
    "name": ("name", "title", "alertname", "alert_name", "labels.alertname"),
    "service": ("service", "labels.service", "labels.app", "component"),
    "severity": ("severity", "priority", "labels.severity"),
    "status": ("status", "state"),
    "summary": ("summary", "message", "annotations.summary"),
    "description": ("description", "details", "annotations.description"),
    "starts_at": ("starts_at", "startsAt", "timestamp", "time", "created_at"),
    "fingerprint": ("fingerprint", "dedup_key", "id"),
    "url": ("url", "link", "generatorURL"),
}


def _first(obj: dict[str, Any], paths: tuple[str, ...]) -> Any:
    for path in paths:
        value = _get(obj, path)
        if value not in (None, ""):
            return value
    return None


def parse_one(obj: Any, *, where: str = "alert", mapping: dict[str, tuple[str, ...]] | None = None) -> Alert:
    if not isinstance(obj, dict):
        raise PayloadError(f"{where}: expected a JSON object")
    m = {**DEFAULT_MAPPING, **(mapping or {})}
    name = _first(obj, m["name"])
    if not name:
        raise PayloadError(f"{where}: needs one of the fields {', '.join(m['name'])}")
    labels = str_dict(obj.get("labels"), field=f"{where}.labels")
    annotations = str_dict(obj.get("annotations"), field=f"{where}.annotations")
    status_text = str(_first(obj, m["status"]) or "firing").lower()
    status = {"firing": AlertStatus.FIRING, "triggered": AlertStatus.FIRING, "open": AlertStatus.FIRING,
              "alerting": AlertStatus.FIRING, "resolved": AlertStatus.RESOLVED, "ok": AlertStatus.RESOLVED,
              "closed": AlertStatus.RESOLVED, "acknowledged": AlertStatus.ACKNOWLEDGED}.get(status_text)
    if status is None:
        raise PayloadError(f"{where}.status: {status_text!r} is not one of firing/resolved/acknowledged")
    service = _first(obj, m["service"]) or service_from_labels(labels)
    alert = Alert(
        source=SOURCE,
        status=status,
        name=str(name),
        service=str(service) if service else None,
        severity=Severity.parse(_first(obj, m["severity"])),
        summary=str(_first(obj, m["summary"]) or ""),
        description=str(_first(obj, m["description"]) or ""),
        labels=labels or {"alertname": str(name), **({"service": str(service)} if service else {})},
        annotations=annotations,
        generator_url=_first(obj, m["url"]),
        raw={k: v for k, v in obj.items() if k not in {"labels", "annotations"} and isinstance(v, (str, int, float))},
    )
    starts = parse_time(_first(obj, m["starts_at"]), field=f"{where}.starts_at")
    if starts is not None:
        alert.starts_at = starts
    fp = _first(obj, m["fingerprint"])
    alert.fingerprint = f"gen:{fp}" if fp else alert.compute_fingerprint()
    return alert


def parse(payload: Any, mapping: dict[str, tuple[str, ...]] | None = None) -> list[Alert]:
    if isinstance(payload, list):
        return [parse_one(o, where=f"[{i}]", mapping=mapping) for i, o in enumerate(payload)]
    if isinstance(payload, dict) and isinstance(payload.get("alerts"), list):
        return [parse_one(o, where=f"alerts[{i}]", mapping=mapping) for i, o in enumerate(payload["alerts"])]
    return [parse_one(payload, mapping=mapping)]
