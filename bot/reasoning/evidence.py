"""Evidence items copied from signals, similar incidents and runbook sections.

Every hypothesis lists the evidence it rests on; the ids are stable inside one analysis so that the
LLM can cite them and the renderer can link them.
"""

from __future__ import annotations

from bot.domain import Document, Evidence, EvidenceType, Signal, SimilarIncident

_TYPE_OF_SOURCE: dict[str, EvidenceType] = {
    "logs": EvidenceType.LOG,
    "log": EvidenceType.LOG,
    "metrics": EvidenceType.METRIC,
    "metric": EvidenceType.METRIC,
    "changes": EvidenceType.CHANGE,
    "change": EvidenceType.CHANGE,
    "alert": EvidenceType.ALERT,
    "retrieval": EvidenceType.INCIDENT,
    "topology": EvidenceType.TOPOLOGY,
    "kubernetes": EvidenceType.KUBERNETES,
}


def evidence_type(source: str | None) -> EvidenceType:
    return _TYPE_OF_SOURCE.get((source or "").lower(), EvidenceType.LOG)


def from_signal(signal: Signal) -> list[Evidence]:
    """The signal's own evidence items, or one item standing for the signal itself."""
    if signal.evidence:
        out = []
        for item in signal.evidence:
            copy = item.model_copy()
            if copy.weight <= 0:
                copy.weight = float(signal.score)
            if copy.service is None:
                copy.service = signal.service
            out.append(copy)
        return out
    detail = None
    if signal.attributes:
        template = signal.attributes.get("template") or signal.attributes.get("message")
        detail = str(template) if template else None
    return [
        Evidence(
            id=signal.id,
            type=evidence_type(signal.source),
            summary=signal.title,
            service=signal.service,
            ts=signal.started_at,
            detail=detail,
            weight=float(signal.score),
        )
    ]


def from_similar(incident: SimilarIncident) -> Evidence:
    return Evidence(
        id=f"incident:{incident.id}",
        type=EvidenceType.INCIDENT,
        summary=f"Similar past incident: {incident.title}",
        service=incident.root_cause_service,
        detail=incident.resolution,
        url=incident.url,
        weight=float(max(0.0, min(1.0, incident.score))),
    )


def from_runbook(document: Document, score: float) -> Evidence:
    heading = " > ".join(document.heading_path) if document.heading_path else document.title
    return Evidence(
        id=f"runbook:{document.id}",
        type=EvidenceType.RUNBOOK,
        summary=f"Runbook: {heading}",
        service=document.services[0] if document.services else None,
        detail=document.text[:400],
        url=document.url,
        weight=float(max(0.0, min(1.0, score))),
    )
