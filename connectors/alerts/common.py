"""Helpers shared by the vendor payload parsers (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain import PayloadError
from connectors.prometheus_defaults import host_of, is_exporter_job

SERVICE_LABELS = ("service", "service_name", "app", "app_kubernetes_io_name", "application", "component",
                  "job", "container", "deployment", "pod_name", "host", "instance", "node")

_ZERO_TIMES = {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", "", None}


def parse_time(value: Any, *, field: str) -> datetime | None:
    """ISO-8601 (with Z or offset, with nanoseconds) or epoch seconds/milliseconds -> aware UTC."""
    if value in _ZERO_TIMES:
        return None
    if isinstance(value, (int, float)):
        seconds = float(value) / 1000.0 if value > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str):
        raise PayloadError(f"{field}: expected a timestamp, got {type(value).__name__}")
    text = value.strip()
    if text.isdigit():
        return parse_time(int(text), field=field)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python accepts at most microseconds: trim nanoseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]  # leading digits only, not the offset's
        tail = rest[len(digits):]
        text = f"{head}.{digits[:6]}{tail}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        raise PayloadError(f"{field}: {value!r} is not an ISO-8601 time") from e
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def service_from_labels(labels: dict[str, str]) -> str | None:
    """The first present of ``SERVICE_LABELS``; a ``job`` that names an exporter (``node``,
    ``node-exporter``, ``kube-state-metrics``...) is skipped, so a host alert names its host."""
    for key in SERVICE_LABELS:
        value = labels.get(key)
        if value:
            if key == "job" and is_exporter_job(value):
                continue
            if key == "instance":
                return host_of(value)
            return value
    return labels.get("job") or None


def str_dict(value: Any, *, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{field}: expected an object of strings, got {type(value).__name__}")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def require(payload: Any, key: str, kind: type, *, where: str) -> Any:
    if not isinstance(payload, dict):
        raise PayloadError(f"{where}: expected a JSON object")
    if key not in payload:
        raise PayloadError(f"{where}: missing field {key!r}")
    value = payload[key]
    if not isinstance(value, kind):
        raise PayloadError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


# ---- conventions shared by parsers and intake ---------------------------------------------------
# ``Alert.raw`` keys with a meaning for intake (everything else in ``raw`` is the vendor's, for display):
#   RAW_EXTERNAL_REFS: {"pagerduty": "<incident id>"} or {"opsgenie": "<alert id>"}, merged into
#                      ``Incident.external_refs`` so write-back knows where to post.
#   RAW_UPDATE_ONLY:   True when the notification changes no state (a note, an escalation, a priority
#                      change): it updates the alert it belongs to and never opens an incident.
#   RAW_NOTE:          the text of a note added in the vendor's tool.
#   RAW_LINKS:         {"dashboard": url, "panel": url, "silence": url, "image": url, "runbook": url}.
RAW_EXTERNAL_REFS = "external_refs"
RAW_UPDATE_ONLY = "update_only"
RAW_NOTE = "note"
RAW_LINKS = "links"


def epoch_any(value: Any, *, field: str) -> datetime | None:
    """Epoch in seconds, milliseconds, microseconds or nanoseconds (Opsgenie mixes them) -> UTC."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return parse_time(value, field=field)
    for divisor in (1.0, 1e3, 1e6, 1e9):
        seconds = number / divisor
        if seconds < 1e11:  # before year 5138: plausible
            return datetime.fromtimestamp(seconds, tz=UTC)
    raise PayloadError(f"{field}: {value!r} is not a plausible epoch time")


def tags_to_labels(tags: Any) -> dict[str, str]:
    """``["env:prod", "service:checkout", "vip"]`` or ``"env:prod,service:checkout"`` -> labels.

    A tag without a value becomes ``{"tag": "1"}``; keys and values are trimmed.
    """
    if tags is None:
        return {}
    items = tags.split(",") if isinstance(tags, str) else list(tags) if isinstance(tags, list) else []
    labels: dict[str, str] = {}
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        key, sep, value = text.partition(":")
        if not sep:
            key, sep, value = text.partition("=")
        labels[key.strip()] = value.strip() if sep else "1"
    return labels


def clean_links(**links: Any) -> dict[str, str]:
    return {k: str(v) for k, v in links.items() if isinstance(v, str) and v.strip()}


def stable_fingerprint(alert: Any) -> str:
    """The domain's label-based fingerprint (``Alert.compute_fingerprint``) for an alert without one."""
    alert.fingerprint = ""
    return str(alert.compute_fingerprint())
