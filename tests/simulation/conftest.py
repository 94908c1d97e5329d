"""Fixtures of the simulation tests: bundles written once per session (they are deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.simulation import generate_bundle


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_bundle(tmp_path_factory.mktemp("demo") / "bundle", kind="db_connection_exhaustion",
                           service="checkout", seed=7)


@pytest.fixture(scope="session")
def hard_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_bundle(tmp_path_factory.mktemp("hard") / "bundle", kind="db_slow_query", seed=11,
                           difficulty="hard", vendor="alertmanager")
