"""Intake's own table: the correlation profile of each incident (services, hosts, label pairs, flaps).

Kept beside ``incidents`` so grouping never has to load every alert of an open incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from bot.storage.types import UtcDateTime


class IntakeGroupRow(SQLModel, table=True):
    __tablename__ = "intake_groups"

    incident_id: str = Field(primary_key=True, max_length=64)
    first_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    last_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
