"""Column types shared by the tables.

``UtcDateTime``: every time goes in as aware UTC and comes back as aware UTC on every database. SQLite has
no time zone type: it stores the text naive and SQLAlchemy reads it back naive, which made comparisons with
aware times raise ``TypeError`` (the incident page's timeline). Normalising here, at the storage boundary,
keeps every reader free of that difference. A naive time written by our code is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)
