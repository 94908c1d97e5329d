"""Vendor alert payloads -> ``Alert`` objects. One pure parser per vendor, chosen by name or sniffed.

``parse_alerts(payload, source=None)``: ``source`` is the vendor name from the intake URL; when None
the payload's shape decides (used for bundles' ``alert.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from bot.domain import Alert, PayloadError
from connectors.alerts import alertmanager, generic

PARSERS: dict[str, ModuleType] = {
    alertmanager.SOURCE: alertmanager,
    generic.SOURCE: generic,
}


def register(module: ModuleType) -> None:
    """Add a vendor parser module exposing ``SOURCE``, ``parse(payload)`` and ``looks_like(payload)``."""
    PARSERS[module.SOURCE] = module


def detect_source(payload: Any) -> str:
    if isinstance(payload, dict):
        for name, module in PARSERS.items():
            looks_like: Callable[[dict[str, Any]], bool] | None = getattr(module, "looks_like", None)
            if name != generic.SOURCE and looks_like is not None and looks_like(payload):
                return name
    return generic.SOURCE


def parse_alerts(payload: Any, *, source: str | None = None) -> list[Alert]:
    name = source or detect_source(payload)
    module = PARSERS.get(name)
    if module is None:
        raise PayloadError(f"unknown alert source {name!r}; known: {', '.join(sorted(PARSERS))}")
    alerts: list[Alert] = module.parse(payload)
    if not alerts:
        raise PayloadError(f"{name} payload holds no alerts")
    return alerts


__all__ = ["PARSERS", "detect_source", "parse_alerts", "register"]
