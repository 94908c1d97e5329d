"""Vendor alert payloads -> ``Alert`` objects. One pure parser per vendor, chosen by name or sniffed.

``parse_alerts(payload, source=None)``: ``source`` is the vendor name from the intake URL; when None
the payload's shape decides (used for bundles' ``alert.json``). The parsers are the ``alert_source`` of
the connectors in ``connectors.registry`` (``connectors.plugins.AlertSource``: ``SOURCE``,
``parse(payload) -> list[Alert]``, ``looks_like(payload) -> bool``); one that sets ``ALLOW_EMPTY = True``
may return no alert for a valid payload (PagerDuty's service events). This package keeps what every
vendor's parser shares (``common``, ``strict``); each parser lives in its vendor's package.

Built in: ``alertmanager``, ``grafana``, ``pagerduty`` (V3), ``opsgenie``, ``datadog``, ``generic``, and any
connector a pip package adds; ``register_mappings`` adds generic parsers configured in YAML (``intake.mappings``).

``parse_alerts`` is total: field types are checked first (``strict.FIELD_TYPES``), and anything a parser
raises (an overflowing time, a type it did not expect) becomes a ``PayloadError`` with the reason.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Alert, PayloadError
from connectors.alerts.strict import check_field_types
from connectors.generic.alerts import SOURCE as GENERIC
from connectors.generic.alerts import MappedParser
from connectors.plugins import AlertSource
from connectors.registry import default_registry

AlertParser = AlertSource  # the protocol's former name

_MAPPED: dict[str, AlertSource] = {}  # generic sources registered at run time (``intake.mappings``)


def alert_sources() -> dict[str, AlertSource]:
    """Every accepted source, name -> parser: the connectors' parsers in detection order, then the registered
    mappings. A new dict each call."""
    return {**default_registry().alert_sources(), **_MAPPED}


def register(parser: AlertSource) -> None:
    """Add a parser at run time (a configured mapping); it cannot replace a connector's parser."""
    if parser.SOURCE in default_registry().alert_sources():
        raise PayloadError(f"intake.mappings.{parser.SOURCE}: {parser.SOURCE!r} is a built-in source; "
                           "choose another name")
    _MAPPED[parser.SOURCE] = parser


def unregister(name: str) -> None:
    """Forget a parser added by ``register`` (no-op for an unknown name)."""
    _MAPPED.pop(name, None)


def register_mappings(mappings: dict[str, dict[str, Any]]) -> list[str]:
    """Register one ``MappedParser`` per configured mapping; a built-in vendor name cannot be replaced."""
    names: list[str] = []
    for name, config in mappings.items():
        register(MappedParser(name, dict(config)))
        names.append(name)
    return names


def detect_source(payload: Any) -> str:
    if isinstance(payload, dict):
        for name, parser in alert_sources().items():
            looks_like = getattr(parser, "looks_like", None)
            if name != GENERIC and looks_like is not None and looks_like(payload):
                return name
    return GENERIC


def parse_alerts(payload: Any, *, source: str | None = None) -> list[Alert]:
    name = source or detect_source(payload)
    sources = alert_sources()
    parser = sources.get(name)
    if parser is None:
        raise PayloadError(f"unknown alert source {name!r}; known: {', '.join(sorted(sources))}")
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


__all__ = ["AlertParser", "alert_sources", "detect_source", "parse_alerts", "register", "register_mappings",
           "unregister"]
