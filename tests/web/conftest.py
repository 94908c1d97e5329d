from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.domain import utcnow


def make_settings(tmp_path: Path, **auth: Any):  # type: ignore[no-untyped-def]
    from config.settings import load_settings

    return load_settings(data_dir=tmp_path / "data", retrieval={"backend": "memory"}, auth=auth)


@pytest.fixture
def seeded_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from bot.api.app import create_app
    from tests.reporting.factory import seed_incidents

    app = create_app(make_settings(tmp_path))
    now = utcnow().replace(microsecond=0) - timedelta(minutes=1)
    app.state.seeded = seed_incidents(app.state.store, now=now, days=21, count=60, seed=5)
    return app


@pytest.fixture
def client(seeded_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(seeded_app) as c:
        yield c
