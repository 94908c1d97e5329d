"""Typed events that cross processes through the database outbox (``bot.storage.outbox``).

Each event name is an ``EventType``; its payload is one of the models below (ids, not whole objects: the
consumer reads the current state). In-process-only events (``incident.updated``, ``feedback.recorded``)
keep the plain bus.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventType(enum.StrEnum):
    INCIDENT_CREATED = "incident.created"
    INCIDENT_ACKNOWLEDGED = "incident.acknowledged"
    INCIDENT_RESOLVED = "incident.resolved"
    ANALYSIS_READY = "analysis.ready"
    WARNING_RAISED = "warning.raised"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class IncidentEvent(_Payload):
    """incident.created / incident.acknowledged / incident.resolved."""

    incident_id: str = Field(min_length=1, max_length=64)
    user: str | None = Field(default=None, max_length=200)


class AnalysisReady(_Payload):
    incident_id: str = Field(min_length=1, max_length=64)
    analysis_id: str = Field(min_length=1, max_length=64)


class WarningRaised(_Payload):
    """An early warning entered as an alert (``alert`` is the alert's JSON form)."""

    alert: dict[str, Any]
    details: dict[str, Any] = Field(default_factory=dict)
    incident_ids: list[str] = Field(default_factory=list)


PAYLOADS: dict[EventType, type[_Payload]] = {
    EventType.INCIDENT_CREATED: IncidentEvent,
    EventType.INCIDENT_ACKNOWLEDGED: IncidentEvent,
    EventType.INCIDENT_RESOLVED: IncidentEvent,
    EventType.ANALYSIS_READY: AnalysisReady,
    EventType.WARNING_RAISED: WarningRaised,
}


class OutboxEvent(BaseModel):
    """One event to write in the transaction of the state change it reports."""

    type: EventType
    payload: IncidentEvent | AnalysisReady | WarningRaised

    def model_post_init(self, __context: Any) -> None:
        expected = PAYLOADS[self.type]
        if not isinstance(self.payload, expected):
            raise ValueError(f"{self.type.value} carries {expected.__name__}, not {type(self.payload).__name__}")


def parse_payload(event: EventType, data: dict[str, Any]) -> _Payload:
    return PAYLOADS[event].model_validate(data)
