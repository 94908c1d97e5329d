"""Vendor alert payloads -> ``Alert`` objects. One pure parser per vendor, chosen by name or sniffed.

``parse_alerts(payload, source=None)``: ``source`` is the vendor name from the intake URL; when None
the payload's shape decides (used for bundles' ``alert.json``). A parser is anything with ``SOURCE``,
``parse(payload) -> list[Alert]`` and ``looks_like(payload) -> bool`` (a module or an object); one that
sets ``ALLOW_EMPTY = True`` may return no alert for a valid payload (PagerDuty's service events).

Built in: ``alertmanager``, ``grafana``, ``pagerduty`` (V3), ``opsgenie``, ``datadog``, ``generic``;
``register_mappings`` adds generic parsers configured in YAML (``intake.mappings``).

``parse_alerts`` is total: field types are checked first (``strict.FIELD_TYPES``), and anything a parser
raises (an overflowing time, a type it did not expect) becomes a ``PayloadError`` with the reason.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.domain import Alert, PayloadError
from connectors.alerts import alertmanager, datadog, generic, grafana, opsgenie, pagerduty
from connectors.alerts.generic import MappedParser
from connectors.alerts.strict import check_field_types


class AlertParser(Protocol):
    SOURCE: str

    def parse(self, payload: Any) -> list[Alert]: ...

    def looks_like(self, payload: dict[str, Any]) -> bool: ...


PARSERS: dict[str, Any] = {
    module.SOURCE: module for module in (alertmanager, grafana, pagerduty, opsgenie, datadog, generic)
}
BUILT_IN = frozenset(PARSERS)


def register(parser: Any) -> None:
    """Add a vendor parser (module or object) exposing ``SOURCE``, ``parse`` and ``looks_like``."""
    PARSERS[parser.SOURCE] = parser


def register_mappings(mappings: dict[str, dict[str, Any]]) -> list[str]:
    """Register one ``MappedParser`` per configured mapping; a built-in vendor name cannot be replaced."""
    names: list[str] = []
    for name, config in mappings.items():
        if name in BUILT_IN:
            raise PayloadError(f"intake.mappings.{name}: {name!r} is a built-in source; choose another name")
        register(MappedParser(name, dict(config)))
        names.append(name)
    return names


def detect_source(payload: Any) -> str:
    if isinstance(payload, dict):
        for name, parser in PARSERS.items():
            looks_like = getattr(parser, "looks_like", None)
            if name != generic.SOURCE and looks_like is not None and looks_like(payload):
                return name
    return generic.SOURCE


def parse_alerts(payload: Any, *, source: str | None = None) -> list[Alert]:
    name = source or detect_source(payload)
    parser = PARSERS.get(name)
    if parser is None:
        raise PayloadError(f"unknown alert source {name!r}; known: {', '.join(sorted(PARSERS))}")
    check_field_types(name, payload)
    try:
        alerts: list[Alert] = parser.parse(payload)
    except PayloadError:
        raise
    except Exception as e:  # noqa: BLE001 - a parser is pure: whatever it raises, the payload is at fault
        raise PayloadError(f"{name} payload could not be read: {e.__class__.__name__}: {str(e)[:200]}") from e
    if not alerts and not getattr(parser, "ALLOW_EMPTY", False):
        raise PayloadError(f"{name} payload holds no alerts")
    return alerts


__all__ = ["BUILT_IN", "PARSERS", "AlertParser", "detect_source", "parse_alerts", "register", "register_mappings"]
