"""Persistence: SQLModel tables, Alembic migrations and the ``Store`` repository."""

from bot.storage.store import Store, StoredFeedback

__all__ = ["Store", "StoredFeedback"]
