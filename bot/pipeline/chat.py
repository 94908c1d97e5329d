"""Service functions the chat surfaces (Slack, Teams, e-mail, CLI commands) need beyond ``Pipeline``.

Keyword-only functions taking ``pipeline=``; nothing here knows about a chat vendor. Blocking (they
touch the database, the retriever and the reasoning): surfaces call them from a thread.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.domain import (
    Analysis,
    DocumentType,
    Feedback,
    Incident,
    IncidentStatus,
    InputError,
    NotFoundError,
    RetrievalError,
    SimilarIncident,
    Vote,
)
from bot.domain.vocabulary import ALL_KINDS
from bot.pipeline.service import Pipeline

log = logging.getLogger(__name__)

_RECENT_SCAN = 200


@dataclass(frozen=True)
class RunbookHit:
    title: str
    url: str | None
    snippet: str
    score: float


def find_incident(*, pipeline: Pipeline, ref: str | None = None) -> tuple[Incident, Analysis | None]:
    """An incident by its id, by the id/fingerprint/external id of one of its alerts, or the latest open one."""
    store = pipeline._require_store()
    ref = (ref or "").strip()
    if not ref:
        for status in (IncidentStatus.OPEN.value, IncidentStatus.ACKNOWLEDGED.value):
            found = store.list_incidents(status=status, limit=1)
            if found:
                return pipeline.get_incident(incident_id=found[0].id)
        raise NotFoundError("no open incident; give an incident id, e.g. `analyze inc-1234abcd`")
    try:
        return pipeline.get_incident(incident_id=ref)
    except NotFoundError:
        pass
    by_fingerprint = store.find_incident_by_alert_fingerprint(fingerprint=ref, open_only=False)
    if by_fingerprint is not None:
        return pipeline.get_incident(incident_id=by_fingerprint.id)
    for candidate in store.list_incidents(limit=_RECENT_SCAN):
        full = store.get_incident(incident_id=candidate.id)
        if any(ref in (a.id, a.external_id) for a in full.alerts):
            return full, store.latest_analysis(incident_id=full.id)
    raise NotFoundError(f"no incident or alert {ref!r}; `status` lists the open incidents")


def incident_for_thread(*, pipeline: Pipeline, surface: str, channel: str, thread: str) -> str | None:
    """The incident whose auto-post started this chat thread, when one did."""
    data = pipeline._require_store().get_state(key=thread_key(surface=surface, channel=channel, thread=thread))
    return str(data["incident_id"]) if data and data.get("incident_id") else None


def remember_thread(*, pipeline: Pipeline, surface: str, channel: str, thread: str, incident_id: str) -> None:
    pipeline._require_store().put_state(key=thread_key(surface=surface, channel=channel, thread=thread),
                                        data={"incident_id": incident_id})


def thread_key(*, surface: str, channel: str, thread: str) -> str:
    return f"chat-thread:{surface}:{channel}:{thread}"[:200]


def analyze(*, pipeline: Pipeline, ref: str | None = None) -> tuple[Incident, Analysis]:
    """Run (again) the analysis of an incident found by ``find_incident``."""
    incident, _ = find_incident(pipeline=pipeline, ref=ref)
    analysis = pipeline.analyze_incident(incident_id=incident.id)
    return pipeline.get_incident(incident_id=incident.id)[0], analysis


def similar_incidents(*, pipeline: Pipeline, text: str, k: int = 5) -> list[SimilarIncident]:
    """Past incidents like a free-text description (empty without a retriever)."""
    if not text.strip():
        raise InputError("say what to look for, e.g. `similar checkout latency after deploy`")
    if pipeline.retriever is None:
        return []
    from bot.storage.store import StoredFeedback
    from retrieval import SearchFilters

    store = pipeline.store
    feedback = StoredFeedback(store) if store is not None else None  # the candidates' votes, counted
    try:
        hits = pipeline.retriever.search(pipeline.retriever.query_for_question(text), k=k,
                                         filters=SearchFilters(type=DocumentType.INCIDENT), feedback=feedback)
    except RetrievalError as e:
        log.warning("similar search failed")
        raise RetrievalError(f"similar-incident search is unavailable: {e}") from e
    return [
        SimilarIncident(id=h.document.id, title=h.document.title, score=round(float(h.score), 4),
                        resolution=h.document.resolution, url=h.document.url,
                        root_cause_service=h.document.root_cause_service,
                        root_cause_kind=h.document.root_cause_kind, why=h.why)
        for h in hits
    ]


def find_runbooks(*, pipeline: Pipeline, text: str, k: int = 3) -> list[RunbookHit]:
    if not text.strip():
        raise InputError("say which runbook, e.g. `runbook database connections`")
    if pipeline.retriever is None:
        return []
    from retrieval import SearchFilters

    hits = pipeline.retriever.search(pipeline.retriever.query_for_question(text), k=k,
                                     filters=SearchFilters(type=DocumentType.RUNBOOK))
    out = []
    for h in hits:
        doc = h.document
        title = " › ".join([doc.title, *doc.heading_path]) if doc.heading_path else doc.title
        snippet = " ".join(doc.text.split())[:300]
        out.append(RunbookHit(title=title, url=doc.url, snippet=snippet, score=round(float(h.score), 4)))
    return out


_LOGS = re.compile(r"\blogs?\b(?:\s+(?:for|of|from|in))?\s+([\w.\-]+)", re.IGNORECASE)
_SIMILAR = re.compile(r"\bsimilar\b|\bseen (?:this|it) before\b|\bhappened before\b", re.IGNORECASE)


def answer(*, pipeline: Pipeline, incident_id: str, question: str) -> str:
    """Answer a question about an incident from its evidence ("why", "what changed", "show logs for X")."""
    incident, analysis = pipeline.get_incident(incident_id=incident_id)
    if analysis is None:
        return f"{incident.id} has no analysis yet; `analyze {incident.id}` runs one."
    logs = _LOGS.search(question)
    if logs:
        return _log_answer(analysis, logs.group(1))
    if _SIMILAR.search(question):
        if not analysis.similar_incidents:
            return "No similar past incident was found for this one."
        return "Similar past incidents:\n" + "\n".join(
            f"- {s.title} ({s.score:.2f})" + (f": {s.resolution}" if s.resolution else "")
            + (f" {s.url}" if s.url else "") for s in analysis.similar_incidents[:5])
    context = pipeline.build_context(incident)
    try:
        from bot.reasoning.llm import answer_question
    except ImportError:  # reasoning not installed in this build: answer from the analysis alone
        return summary_text(incident=incident, analysis=analysis)
    return answer_question(question, context, analysis, llm=pipeline.llm)


def _log_answer(analysis: Analysis, service: str) -> str:
    wanted = service.lower()
    lines: list[str] = []
    for sig in analysis.signals:
        if sig.source != "logs" or (sig.service or "").lower() != wanted:
            continue
        lines.append(f"- {sig.title} (score {sig.score:.2f})")
        lines += [f"    {e.detail or e.summary}"[:400] for e in sig.evidence[:3]]
    if not lines:
        known = sorted({s.service for s in analysis.signals if s.source == "logs" and s.service})
        hint = f" Log signals exist for: {', '.join(known)}." if known else ""
        return f"No unusual log lines were found for {service}.{hint}"
    return f"Unusual log lines for {service}:\n" + "\n".join(lines[:30])


def summary_text(*, incident: Incident, analysis: Analysis | None) -> str:
    head = f"{incident.title or incident.id} ({incident.id}, {incident.severity.value}, {incident.status.value})"
    if analysis is None:
        return head + "\nNo analysis yet."
    lines = [head, analysis.summary] if analysis.summary else [head]
    for h in analysis.hypotheses[:3]:
        lines.append(f"{h.rank}. {h.title}: {round(h.confidence * 100)}%")
    return "\n".join(lines)


def open_incidents(*, pipeline: Pipeline, limit: int = 10) -> list[tuple[Incident, Analysis | None]]:
    store = pipeline._require_store()
    items = [*store.list_incidents(status=IncidentStatus.OPEN.value, limit=limit),
             *store.list_incidents(status=IncidentStatus.ACKNOWLEDGED.value, limit=limit)]
    items.sort(key=lambda i: i.created_at, reverse=True)
    return [(i, store.latest_analysis(incident_id=i.id)) for i in items[:limit]]


def status_text(*, pipeline: Pipeline, limit: int = 10) -> str:
    items = open_incidents(pipeline=pipeline, limit=limit)
    if not items:
        return "No open incidents. 🎉"
    lines = [f"{len(items)} open incident(s):"]
    for incident, analysis in items:
        top = analysis.top if analysis else None
        cause = f"likely {top.kind} in {top.service} ({round(top.confidence * 100)}%)" if top else "not analysed yet"
        lines.append(f"- {incident.id} [{incident.severity.value}, {incident.status.value}] "
                     f"{incident.title or ''}: {cause}")
    return "\n".join(lines)


def parse_cause(text: str | None) -> tuple[str | None, str | None]:
    """``"orders-db db_connection_exhaustion"``, ``"orders-db/oom_kill"`` or ``"oom_kill in orders-db"``."""
    if not text or not text.strip():
        return None, None
    words = [w for w in re.split(r"[\s/:,]+", text.strip()) if w and w.lower() not in {"in", "on", "at", "of"}]
    kind = next((w for w in words if w in ALL_KINDS), None)
    service = next((w for w in words if w != kind), None)
    if kind is None and len(words) >= 2:
        raise InputError(f"unknown root-cause kind in {text!r}; e.g. `resolve orders-db db_connection_exhaustion`")
    return service, kind


def record_vote(*, pipeline: Pipeline, incident_id: str, vote: Vote, user: str, surface: str,
                analysis_id: str | None = None, service: str | None = None, kind: str | None = None,
                comment: str | None = None) -> Feedback:
    feedback = Feedback(incident_id=incident_id, analysis_id=analysis_id, service=service, kind=kind, vote=vote,
                        user=user, surface=surface, comment=comment)
    return pipeline.record_feedback(feedback=feedback)


def incident_feedback(*, pipeline: Pipeline, incident_id: str) -> list[Feedback]:
    return pipeline._require_store().list_feedback(incident_id=incident_id)
