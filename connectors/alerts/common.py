"""Helpers shared by the vendor payload parsers (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain import PayloadError

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
        digits = "".join(ch for ch in rest if ch.isdigit())
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
    for key in SERVICE_LABELS:
        value = labels.get(key)
        if value:
            if key == "instance":
                return value.split(":", 1)[0]
            return value
    return None


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
