"""Incident simulation: a world model, a fault catalog for every kind, evidence bundles, history,
datasets, live mode and game days.

    from bot.simulation import generate_bundle, generate_history, generate_dataset, validate_bundle
"""

from __future__ import annotations

from bot.simulation.bundle import generate_bundle
from bot.simulation.dataset import generate_dataset
from bot.simulation.history import generate_history
from bot.simulation.validate import validate_bundle

__all__ = ["generate_bundle", "generate_dataset", "generate_history", "validate_bundle"]
