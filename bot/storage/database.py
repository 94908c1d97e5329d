"""Engine creation and schema setup for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel, create_engine

from bot.domain.errors import StorageError
from bot.storage import tables  # noqa: F401  (registers the tables on the metadata)

log = logging.getLogger(__name__)


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """An engine for ``url``. For PostgreSQL, ``schema`` sets the search path (created if absent)."""
    connect_args: dict[str, object] = {}
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:" and not url.startswith("sqlite://:memory:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args["check_same_thread"] = False
        connect_args["timeout"] = 30
    elif schema:
        connect_args["options"] = f"-csearch_path={schema}"
    try:
        engine = create_engine(url, echo=echo, connect_args=connect_args, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as e:
        raise StorageError(f"cannot use database URL (scheme {url.split(':', 1)[0]!r}): {e}") from e
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    if schema and not url.startswith("sqlite"):
        try:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        except SQLAlchemyError as e:
            raise StorageError(f"cannot create schema {schema!r}: {e}") from e
    return engine


def create_schema(engine: Engine) -> None:
    """Bring the database to the current schema through the Alembic migrations."""
    from bot.storage.migrate import upgrade

    try:
        upgrade(engine)
    except SQLAlchemyError as e:
        raise StorageError(f"cannot migrate the database: {e}") from e


def check(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        raise StorageError(f"database unreachable: {e.__class__.__name__}") from e


__all__ = ["SQLModel", "check", "create_schema", "make_engine"]
