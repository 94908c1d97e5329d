from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.reporting.factory import Seeded, seed_incidents

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def seeded(store):  # type: ignore[no-untyped-def]
    return seed_incidents(store, now=NOW, days=21, count=60, seed=11)


__all__ = ["NOW", "Seeded"]
