"""Persistence: SQLModel tables, Alembic migrations and the ``Store`` repository."""

from bot.storage.store import Store

__all__ = ["Store"]
