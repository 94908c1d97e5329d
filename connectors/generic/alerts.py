"""Generic JSON alerts: one object or a list of objects with a few well-known fields.

Accepted fields (all optional but ``title``/``name``/``alertname``): ``name``, ``title``, ``service``,
``severity``, ``status`` (firing/resolved), ``summary``, ``description``, ``labels`` (an object or a list of
``key:value`` tags), ``tags``, ``annotations``, a start time (``DEFAULT_MAPPING["starts_at"]``: epoch s/ms/us/ns
or ISO-8601; an unreadable one is noted in the ``time_note`` annotation and the receive time kept),
``fingerprint``, ``url``. A custom mapping (dotted paths) can rename them.

Service: ``common.resolve_service`` over the labels, the tags and the top-level fields with a label's name
(``service``, ``pod``, ``deployment``, ``node``, ...), top-level first; those Kubernetes fields are also kept in
the alert's labels. A mapping that names a ``service`` path is taken at its word.

``MappedParser`` is a generic parser configured in YAML (``intake.mappings``) for tools without a
parser of their own: where the alerts are in the payload, which dotted paths hold each field, how the
tool's status words map to firing/resolved, and labels to add. Registered under its own source name,
it serves ``POST /api/v1/alerts/<name>``.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.alerts.common import (
    SERVICE_RULES,
    resolve_service,
    set_start,
    str_dict,
    tags_to_labels,
    text_or_none,
)

SOURCE = "generic"


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


DEFAULT_MAPPING = {
    "name": ("name", "title", "alertname", "alert_name", "labels.alertname"),
    "service": ("service", "labels.service", "labels.app", "component"),  # read via resolve_service
    "severity": ("severity", "priority", "labels.severity"),
    "status": ("status", "state"),
    "summary": ("summary", "message", "annotations.summary"),
    "description": ("description", "details", "annotations.description"),
    "starts_at": ("starts_at", "startsAt", "start_time", "startTime", "started_at", "startedAt", "fired_at",
                  "firedAt", "triggered_at", "timestamp", "@timestamp", "time", "date", "created_at", "createdAt"),
    "fingerprint": ("fingerprint", "dedup_key", "id"),
    "url": ("url", "link", "generatorURL"),
}


def _first(obj: dict[str, Any], paths: tuple[str, ...]) -> Any:
    for path in paths:
        value = _get(obj, path)
        if value not in (None, ""):
            return value
    return None


_STATUS_WORDS = {"firing": AlertStatus.FIRING, "triggered": AlertStatus.FIRING, "open": AlertStatus.FIRING,
                 "alerting": AlertStatus.FIRING, "alert": AlertStatus.FIRING, "problem": AlertStatus.FIRING,
                 "critical": AlertStatus.FIRING, "warning": AlertStatus.FIRING, "resolved": AlertStatus.RESOLVED,
                 "ok": AlertStatus.RESOLVED, "closed": AlertStatus.RESOLVED, "recovered": AlertStatus.RESOLVED,
                 "acknowledged": AlertStatus.ACKNOWLEDGED}


def parse_one(
    obj: Any,
    *,
    where: str = "alert",
    mapping: dict[str, tuple[str, ...]] | None = None,
    status_words: dict[str, str] | None = None,
    extra_labels: dict[str, str] | None = None,
    source: str = SOURCE,
) -> Alert:
    if not isinstance(obj, dict):
        raise PayloadError(f"{where}: expected a JSON object")
    m = {**DEFAULT_MAPPING, **(mapping or {})}
    name = _first(obj, m["name"])
    if not name:
        raise PayloadError(f"{where}: needs one of the fields {', '.join(m['name'])}")
    labels = {**(extra_labels or {}), **_labels(obj, m, where=where)}
    annotations = str_dict(_first(obj, m.get("annotations", ("annotations",))), field=f"{where}.annotations")
    status_text = str(_first(obj, m["status"]) or "firing").strip().lower()
    words = {**_STATUS_WORDS, **{k.lower(): AlertStatus(v) for k, v in (status_words or {}).items()}}
    status = words.get(status_text)
    if status is None:
        raise PayloadError(f"{where}.status: {status_text!r} is not one of {', '.join(sorted(words))}")
    service = _first(obj, m["service"]) if mapping and "service" in mapping else None
    service = service or resolve_service(labels, alertname=str(name)).service
    alert = Alert(
        source=source,
        status=status,
        name=str(name),
        service=str(service) if service else None,
        severity=Severity.parse(_first(obj, m["severity"])),
        summary=str(_first(obj, m["summary"]) or ""),
        description=str(_first(obj, m["description"]) or ""),
        labels={"alertname": str(name), **({"service": str(service)} if service else {}), **labels},
        annotations=annotations,
        generator_url=text_or_none(_first(obj, m["url"])),
        raw={k: v for k, v in obj.items() if k not in {"labels", "annotations"} and isinstance(v, (str, int, float))},
    )
    set_start(alert, [(path, _get(obj, path)) for path in m["starts_at"]])
    fp = text_or_none(_first(obj, m["fingerprint"]))
    alert.fingerprint = f"{'gen' if source == SOURCE else source}:{fp}" if fp else alert.compute_fingerprint()
    return alert


# Top-level fields read as labels when they have a label's name (``{"pod": "x-7c9d8f6b5-x2kbc", ...}``).
_LABEL_FIELDS = frozenset(key for rule in SERVICE_RULES for key in rule.keys) | {"namespace", "kube_namespace"}


def _labels(obj: dict[str, Any], m: dict[str, tuple[str, ...]], *, where: str) -> dict[str, str]:
    """Tags, then ``labels``, then top-level fields named like labels (most explicit last, so it wins)."""
    value = _first(obj, m.get("labels", ("labels",)))
    labels = tags_to_labels(obj.get("tags")) if isinstance(obj.get("tags"), (list, str, dict)) else {}
    labels.update(tags_to_labels(value) if isinstance(value, list) else str_dict(value, field=f"{where}.labels"))
    labels.update({k: str(v) for k, v in obj.items()
                   if k in _LABEL_FIELDS and isinstance(v, (str, int)) and not isinstance(v, bool) and str(v)})
    return labels


def looks_like(payload: dict[str, Any]) -> bool:
    return False  # the fallback: chosen when no vendor's shape matches, never sniffed


def parse(payload: Any, mapping: dict[str, tuple[str, ...]] | None = None) -> list[Alert]:
    if isinstance(payload, list):
        return [parse_one(o, where=f"[{i}]", mapping=mapping) for i, o in enumerate(payload)]
    if isinstance(payload, dict) and isinstance(payload.get("alerts"), list):
        return [parse_one(o, where=f"alerts[{i}]", mapping=mapping) for i, o in enumerate(payload["alerts"])]
    return [parse_one(payload, mapping=mapping)]


class MappedParser:
    """A generic parser configured by a mapping (from ``intake.mappings.<name>`` in YAML).

    Config keys: ``items`` (dotted path of the list of alerts; absent: the payload is one alert or a
    list), ``fields`` (field -> dotted path or list of paths; fields as in ``DEFAULT_MAPPING`` plus
    ``labels``/``annotations``), ``status_map`` (tool's word -> firing/resolved/acknowledged) and
    ``labels`` (added to every alert, e.g. ``{team: payments}``).
    """

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise PayloadError(f"mapping name {name!r}: use letters, digits, '-' or '_'")
        self.SOURCE = name
        self.items_path: str | None = config.get("items")
        fields = config.get("fields") or {}
        if not isinstance(fields, dict):
            raise PayloadError(f"mapping {name!r}: 'fields' must map a field to a path or a list of paths")
        self.mapping: dict[str, tuple[str, ...]] = {
            key: (value,) if isinstance(value, str) else tuple(str(v) for v in value) for key, value in fields.items()
        }
        self.status_words: dict[str, str] = {str(k): str(v) for k, v in (config.get("status_map") or {}).items()}
        for word, target in self.status_words.items():
            if target not in {s.value for s in AlertStatus}:
                raise PayloadError(f"mapping {name!r}: status_map {word!r} -> {target!r} is not firing/resolved/acknowledged")
        self.extra_labels = {str(k): str(v) for k, v in (config.get("labels") or {}).items()}

    def looks_like(self, payload: dict[str, Any]) -> bool:
        return False  # a mapped source is chosen by its URL, never sniffed

    def parse(self, payload: Any) -> list[Alert]:
        items = payload
        if self.items_path:
            items = _get(payload, self.items_path)
            if not isinstance(items, list):
                raise PayloadError(f"{self.SOURCE} payload: {self.items_path!r} must be a list of alerts")
        objs = items if isinstance(items, list) else [items]
        return [
            parse_one(o, where=f"{self.SOURCE}[{i}]", mapping=self.mapping, status_words=self.status_words,
                      extra_labels=self.extra_labels, source=self.SOURCE)
            for i, o in enumerate(objs)
        ]
