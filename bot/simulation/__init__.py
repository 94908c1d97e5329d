"""Incident simulation: a world model, a fault catalog for every kind, evidence bundles, history,
datasets, live mode and game days.

    from bot.simulation import generate_bundle, generate_history, generate_dataset
"""

from __future__ import annotations

from bot.simulation.bundle import generate_bundle
from bot.simulation.history import generate_history

__all__ = ["generate_bundle", "generate_history"]
