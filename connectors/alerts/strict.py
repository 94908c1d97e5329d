"""Field types of the vendor payloads, checked before a parser runs: a wrong type is refused with the field's
path instead of being turned into a string (``"generatorURL": 5``, ``"url": {"x": 1}``, ``"teams": 5``).

``FIELD_TYPES`` is a data table, one row per field: the vendor, the field's path and the JSON types it may
have. ``null`` (absent) is always allowed; the parsers decide what a missing field means. Paths are dotted;
``[]`` stands for every item of a list, ``*`` for every value of an object. For the generic source the
paths are relative to each alert object (the payload, each item of a list, or each of ``alerts``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.domain import PayloadError

TEXT: tuple[type, ...] = (str,)
ID: tuple[type, ...] = (str, int)  # identifiers and ranks some tools send as numbers
SCALAR: tuple[type, ...] = (str, int, float, bool)  # label values: a number is a fair label, an object is not
OBJECT: tuple[type, ...] = (dict,)
LIST: tuple[type, ...] = (list,)
TAGS: tuple[type, ...] = (list, str)

_PROMETHEUS_LIKE: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("status", TEXT), ("receiver", TEXT), ("groupKey", TEXT), ("externalURL", TEXT),
    ("commonLabels", OBJECT), ("commonLabels.*", SCALAR), ("commonAnnotations", OBJECT),
    ("alerts[]", OBJECT), ("alerts[].status", TEXT), ("alerts[].labels", OBJECT), ("alerts[].labels.*", SCALAR),
    ("alerts[].annotations", OBJECT), ("alerts[].annotations.*", SCALAR), ("alerts[].generatorURL", TEXT),
    ("alerts[].fingerprint", TEXT),
)

FIELD_TYPES: dict[str, tuple[tuple[str, tuple[type, ...]], ...]] = {
    "alertmanager": _PROMETHEUS_LIKE,
    "grafana": _PROMETHEUS_LIKE + (
        ("title", TEXT), ("message", TEXT), ("state", TEXT), ("ruleName", TEXT), ("ruleUrl", TEXT),
        ("imageUrl", TEXT), ("tags", OBJECT), ("tags.*", SCALAR), ("alerts[].dashboardURL", TEXT),
        ("alerts[].panelURL", TEXT), ("alerts[].silenceURL", TEXT), ("alerts[].imageURL", TEXT),
        ("alerts[].valueString", TEXT),
    ),
    "pagerduty": (
        ("event", OBJECT), ("event.id", ID), ("event.event_type", TEXT), ("event.resource_type", TEXT),
        ("event.agent", OBJECT), ("event.data", OBJECT), ("event.data.id", ID), ("event.data.title", TEXT),
        ("event.data.status", TEXT), ("event.data.urgency", TEXT), ("event.data.html_url", TEXT),
        ("event.data.service", OBJECT), ("event.data.priority", OBJECT), ("event.data.teams", LIST),
        ("event.data.teams[]", OBJECT), ("event.data.content", TEXT), ("event.data.incident", OBJECT),
        ("event.data.incident.id", ID), ("event.data.incident.html_url", TEXT),
    ),
    "opsgenie": (
        ("action", TEXT), ("alert", OBJECT), ("alert.alertId", ID), ("alert.message", TEXT),
        ("alert.entity", TEXT), ("alert.description", TEXT), ("alert.alias", TEXT), ("alert.username", TEXT),
        ("alert.note", TEXT), ("alert.priority", ID), ("alert.tags", TAGS), ("alert.tags[]", SCALAR),
        ("alert.details", OBJECT), ("alert.details.*", SCALAR), ("escalationName", TEXT),
    ),
    "datadog": (
        ("title", TEXT), ("alert_title", TEXT), ("event_title", TEXT), ("body", TEXT), ("event_msg", TEXT),
        ("alert_transition", TEXT), ("alert_status", TEXT), ("alert_scope", TEXT), ("alert_type", TEXT),
        ("link", TEXT),
    ),
    "generic": (
        ("name", ID), ("title", ID), ("alertname", ID), ("service", ID), ("status", TEXT), ("state", TEXT),
        ("summary", TEXT), ("message", TEXT), ("description", TEXT), ("details", TEXT), ("url", TEXT),
        ("link", TEXT), ("generatorURL", TEXT), ("fingerprint", ID), ("dedup_key", ID), ("id", ID),
        ("labels", OBJECT), ("labels.*", SCALAR), ("annotations", OBJECT), ("annotations.*", SCALAR),
    ),
}

_JSON_NAMES = {str: "a string", int: "a number", float: "a number", bool: "true/false", dict: "an object",
               list: "a list"}


def _values(value: Any, parts: list[str], where: str) -> Iterator[tuple[str, Any]]:
    """(path, value) for every value the remaining path ``parts`` reaches from ``value``."""
    if not parts:
        yield where, value
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        key = head[:-2]
        inner = value.get(key) if key and isinstance(value, dict) else value if not key else None
        if isinstance(inner, list):
            for i, item in enumerate(inner):
                yield from _values(item, rest, f"{where}{'.' if where and key else ''}{key}[{i}]")
        return
    if head == "*":
        if isinstance(value, dict):
            for key, item in value.items():
                yield from _values(item, rest, f"{where}.{key}")
        return
    if isinstance(value, dict) and head in value:
        yield from _values(value[head], rest, f"{where}.{head}" if where else head)


def _kind(allowed: tuple[type, ...]) -> str:
    return " or ".join(dict.fromkeys(_JSON_NAMES[t] for t in allowed))


def _check(payload: Any, rows: tuple[tuple[str, tuple[type, ...]], ...], where: str = "") -> None:
    for path, allowed in rows:
        for found_at, value in _values(payload, path.split("."), where):
            if value is None:
                continue
            if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
                raise PayloadError(f"{found_at}: expected {_kind(allowed)}, got {_JSON_NAMES.get(type(value), type(value).__name__)}")


def _generic_items(payload: Any) -> list[tuple[str, Any]]:
    if isinstance(payload, list):
        return [(f"[{i}]", item) for i, item in enumerate(payload)]
    if isinstance(payload, dict) and isinstance(payload.get("alerts"), list):
        return [(f"alerts[{i}]", item) for i, item in enumerate(payload["alerts"])]
    return [("", payload)]


def check_field_types(source: str, payload: Any) -> None:
    """Raise ``PayloadError`` naming the first field of ``payload`` whose JSON type ``source`` never sends."""
    rows = FIELD_TYPES.get(source)
    if rows is None:
        return
    if source == "generic":
        for where, item in _generic_items(payload):
            _check(item, rows, where)
        return
    _check(payload, rows)
