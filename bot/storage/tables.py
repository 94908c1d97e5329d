"""Database tables (SQLModel). Rows keep the queried columns plus the full domain object as JSON.

Keeping the domain object whole in ``data`` means a new field in the domain never needs a
migration; a new *queried* column does (``alembic revision --autogenerate``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.storage.types import UtcDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(UtcDateTime(), **kw))


class IncidentRow(SQLModel, table=True):
    __tablename__ = "incidents"

    id: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(index=True, max_length=128)
    title: str = Field(default="", max_length=500)
    service: str | None = Field(default=None, index=True, max_length=200)
    severity: str = Field(default="warning", max_length=20)
    status: str = Field(default="open", index=True, max_length=20)
    source: str = Field(default="generic", max_length=40)
    category: str | None = Field(default=None, index=True, max_length=40)
    is_early_warning: bool = Field(default=False)
    created_at: datetime = _ts(nullable=False, index=True)
    updated_at: datetime = _ts(nullable=False)
    acknowledged_at: datetime | None = _ts(nullable=True)
    resolved_at: datetime | None = _ts(nullable=True)
    confirmed_service: str | None = Field(default=None, max_length=200)
    confirmed_kind: str | None = Field(default=None, max_length=80)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AlertRow(SQLModel, table=True):
    __tablename__ = "alerts"

    id: str = Field(primary_key=True, max_length=64)
    incident_id: str = Field(index=True, foreign_key="incidents.id", max_length=64)
    fingerprint: str = Field(index=True, max_length=128)
    source: str = Field(max_length=40)
    status: str = Field(max_length=20)
    name: str = Field(default="", max_length=300)
    service: str | None = Field(default=None, max_length=200)
    starts_at: datetime = _ts(nullable=False)
    received_at: datetime = _ts(nullable=False, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AnalysisRow(SQLModel, table=True):
    __tablename__ = "analyses"

    id: str = Field(primary_key=True, max_length=64)
    incident_id: str = Field(index=True, foreign_key="incidents.id", max_length=64)
    created_at: datetime = _ts(nullable=False, index=True)
    category: str | None = Field(default=None, max_length=40)
    top_service: str | None = Field(default=None, max_length=200)
    top_kind: str | None = Field(default=None, max_length=80)
    top_confidence: float | None = None
    duration_ms: float | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FeedbackRow(SQLModel, table=True):
    __tablename__ = "feedback"

    id: str = Field(primary_key=True, max_length=64)
    incident_id: str = Field(index=True, max_length=64)
    analysis_id: str | None = Field(default=None, max_length=64)
    service: str | None = Field(default=None, max_length=200)
    kind: str | None = Field(default=None, max_length=80)
    document_id: str | None = Field(default=None, index=True, max_length=200)
    vote: str = Field(max_length=10)
    user: str = Field(default="unknown", max_length=200)
    surface: str = Field(default="api", max_length=20)
    created_at: datetime = _ts(nullable=False, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DeliveryState(enum.StrEnum):
    """The state of one delivery row (``chat_posts``: a Slack post, a Teams card, an e-mail)."""

    PENDING = "pending"  # claimed, never attempted
    POSTING = "posting"  # leased: an attempt is running (or its process died: taken over when stale)
    POSTED = "posted"  # delivered and its reference (Slack ts, Teams activity id) recorded
    FAILED = "failed"  # last attempt failed; retried after its back-off


class ChatPostRow(SQLModel, table=True):
    """Where an incident was posted; the unique key makes 'one incident never posts twice' hold
    across restarts and replicas (the insert is the lock)."""

    __tablename__ = "chat_posts"
    __table_args__ = (UniqueConstraint("incident_id", "surface", "channel", name="uq_chat_post"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(index=True, max_length=64)
    surface: str = Field(max_length=20)
    channel: str = Field(max_length=200)
    message_ref: str | None = Field(default=None, max_length=200)
    state: str = Field(default=DeliveryState.PENDING.value, max_length=20)  # a DeliveryState
    attempts: int = 0
    lease_token: int = 0  # taken anew by every delivery lease (``bot.storage.chat_leases``): a fencing token
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class KeyValueRow(SQLModel, table=True):
    """Small persistent state: template-miner snapshots, learned ranker weights, conversation refs."""

    __tablename__ = "kv"

    key: str = Field(primary_key=True, max_length=200)
    updated_at: datetime = _ts(nullable=False)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
from bot.storage.intake_groups import IntakeGroupRow  # noqa: E402,F401  (intake correlation profiles)


class ChangeEventRow(SQLModel, table=True):
    """Deploys, config changes and flags reported by CI/CD (``POST /api/v1/changes``)."""

    __tablename__ = "change_events"

    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = _ts(nullable=False, index=True)
    kind: str = Field(max_length=40)
    service: str | None = Field(default=None, index=True, max_length=200)
    text: str = Field(default="", max_length=2000)
from bot.storage.jobs import AnalysisJobRow  # noqa: E402,F401  (the durable analysis queue)
from bot.storage.leases import LeaseRow  # noqa: E402,F401  (role leases: one scheduler at a time)
from bot.storage.outbox import OutboxRow  # noqa: E402,F401  (the transactional outbox)
