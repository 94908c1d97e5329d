"""The pipeline service and its stages (intake, bundle loading, events, analysis).

The names below are imported on first use, so that ``from bot.pipeline import load_bundle`` (``sherlog analyze``)
does not load the storage layer that intake needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.pipeline.bundle import BundleReport, load_bundle
    from bot.pipeline.events import EventBus
    from bot.pipeline.intake import IntakeResult, IntakeService
    from bot.pipeline.service import Pipeline

_MODULES = {
    "BundleReport": "bot.pipeline.bundle",
    "load_bundle": "bot.pipeline.bundle",
    "EventBus": "bot.pipeline.events",
    "IntakeResult": "bot.pipeline.intake",
    "IntakeService": "bot.pipeline.intake",
    "Pipeline": "bot.pipeline.service",
}

__all__ = ["BundleReport", "EventBus", "IntakeResult", "IntakeService", "Pipeline", "load_bundle"]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
