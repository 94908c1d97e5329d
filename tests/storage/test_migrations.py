"""The Alembic migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.storage import tables  # noqa: F401
from bot.storage.database import make_engine
from bot.storage.migrate import upgrade
from tests.conftest import PG_URL

pytestmark = pytest.mark.integration


def _diff(engine) -> list[object]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        return list(compare_metadata(ctx, SQLModel.metadata))


def test_sqlite_migrations_match_models(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert _diff(engine) == []


def test_postgresql_migrations_match_models(pg_schema: str) -> None:
    engine = make_engine(PG_URL, schema=pg_schema)
    upgrade(engine)
    assert _diff(engine) == []
    engine.dispose()
