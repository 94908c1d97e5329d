"""Small factories for reasoning tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import (
    Alert,
    ChangeEvent,
    Document,
    DocumentType,
    Incident,
    IncidentContext,
    Signal,
    SignalSource,
    SimilarIncident,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def context(
    *,
    service: str = "checkout",
    title: str = "High latency on checkout",
    topology: dict[str, list[str]] | None = None,
    events: list[ChangeEvent] | None = None,
) -> IncidentContext:
    alert = Alert(name=title, service=service, summary=title, starts_at=at(10))
    incident = Incident(title=title, service=service, alerts=[alert])
    return IncidentContext(
        incident=incident,
        topology=topology if topology is not None else {"frontend": ["checkout"], "checkout": ["db", "payments"]},
        events=events or [],
    )


def signal(source: str, service: str, kind: str, score: float, minute: float, **kw: object) -> Signal:
    return Signal(
        source=SignalSource(source), detector=f"test-{source}", service=service, kind=kind,
        title=f"{kind} on {service}", score=score, started_at=at(minute), **kw,  # type: ignore[arg-type]
    )


def similar(service: str, kind: str, score: float = 0.8, resolution: str = "Raised the pool size") -> SimilarIncident:
    return SimilarIncident(id=f"inc-{service}-{kind}", title=f"Past {kind} on {service}", score=score,
                           resolution=resolution, url=f"https://wiki.example/{service}/{kind}",
                           root_cause_service=service, root_cause_kind=kind)


def runbook(kind: str, services: list[str], text: str = "- Check the pool size\n- Kill idle connections") -> Document:
    return Document(id=f"rb-{kind}", type=DocumentType.RUNBOOK, title=f"Runbook {kind}", text=text,
                    url=f"https://runbooks.example/{kind}", services=services, kinds=[kind])
