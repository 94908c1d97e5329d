"""The pipeline service: the one place surfaces call.

intake -> incident -> context (detectors + retrieval) -> reasoning -> (rendering by surfaces)

``Pipeline.analyze_context`` is the whole analysis of one incident's evidence; the other methods are
the incident lifecycle (intake, acknowledge, resolve, feedback) that the API, chat, CLI and scheduler
share. Nothing here knows about Slack, Teams or HTTP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.domain import (
    Alert,
    Analysis,
    ChangeEvent,
    Document,
    DocumentType,
    Evidence,
    EvidenceType,
    Feedback,
    Incident,
    IncidentContext,
    IncidentStatus,
    NotFoundError,
    RetrievalError,
    Signal,
    SignalSource,
    SimilarIncident,
    Vote,
    utcnow,
)
from bot.domain.events import AnalysisReady, EventType, IncidentEvent, OutboxEvent, WarningRaised
from bot.pipeline.events import EventBus
from bot.pipeline.log_semantics import configure_log_semantics, log_semantics_note
from bot.pipeline.metrics import PipelineMetrics
from detectors.logs.timestamps import reference_time
from detectors.registry import Detector, load_detectors

if TYPE_CHECKING:
    from bot.pipeline.intake import IntakeResult, IntakeService
    from bot.storage import Store
    from bot.storage.jobs import Job
    from config.settings import Settings
    from retrieval import Retriever, SearchHit

log = logging.getLogger(__name__)

ContextProvider = Callable[[Incident], IncidentContext]


@dataclass
class GatheredEvidence:
    signals: list[Signal]
    similar: list[SimilarIncident]
    runbooks: list[tuple[Document, float]]
    notes: list[str] = field(default_factory=list)


class Pipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store | None = None,
        retriever: Retriever | None = None,
        events: EventBus | None = None,
        metrics: PipelineMetrics | None = None,
        context_provider: ContextProvider | None = None,
        llm: Any | None = None,
        ranker_model: Any | None = None,
        detectors: Sequence[tuple[str, Detector]] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.retriever = retriever
        self.events = events or EventBus()
        self.metrics = metrics or PipelineMetrics()
        self.context_provider = context_provider
        self.llm = llm
        self.ranker_model = ranker_model
        self.detectors = tuple(detectors) if detectors is not None else load_detectors()
        configure_log_semantics(settings=settings, retriever=retriever)  # the log detector's embedder
        self._intake: IntakeService | None = None
        if store is not None:
            # intake needs the storage layer; a storeless analysis (``sherlog analyze``) never loads it
            from bot.pipeline.intake import IntakeService

            self._intake = IntakeService.from_settings(settings=settings, store=store)
        self._outbox = False
        self.outbox_wakers: list[Callable[[], None]] = []  # relays of this process (``bot.pipeline.outbox``)

    @property
    def outbox(self) -> bool:
        """True: lifecycle events are written to the database outbox in the transaction of their change and a
        relay (in this or any process) delivers them; False: they go straight to this process's bus."""
        return self._outbox

    @outbox.setter
    def outbox(self, on: bool) -> None:
        self._outbox = on
        if self._intake is not None:
            self._intake.emit_events = on

    def _emit(self, event: EventType, **payload: Any) -> None:
        """After the commit: wake the relays (outbox) or call the subscribers now (no outbox)."""
        if self._outbox:
            for wake in self.outbox_wakers:
                wake()
        else:
            self.events.publish(event.value, **payload)

    def _events(self, *events: OutboxEvent) -> list[OutboxEvent]:
        return list(events) if self._outbox else []

    # ---- analysis ------------------------------------------------------------------------

    def analyze_context(self, context: IncidentContext, *, lacked: list[str] | None = None) -> Analysis:
        """Run detectors, retrieval and reasoning over one incident's evidence. Year-less log timestamps take
        the incident's year (``detectors.logs.timestamps.reference_time``), not the year of the analysis."""
        with reference_time(context.incident.started_at):
            return self._analyze_context(context, lacked=lacked)

    def _analyze_context(self, context: IncidentContext, *, lacked: list[str] | None = None) -> Analysis:
        from bot.reasoning import categorize, rank, recommend, summarize
        from bot.reasoning.recommend import platform_of

        timings: dict[str, float] = {}
        started = time.perf_counter()
        evidence = self.gather(context, timings=timings)
        signals, similar, runbooks, notes = evidence.signals, evidence.similar, evidence.runbooks, evidence.notes

        with _timed(timings, "reasoning"):
            result = rank(context=context, signals=signals, similar=similar, runbooks=runbooks,
                          model=self.ranker_model)
            analysis = Analysis(
                incident_id=context.incident.id,
                hypotheses=result.hypotheses,
                signals=sorted(signals, key=lambda s: s.score, reverse=True),
                similar_incidents=similar,
                enough_evidence=result.enough_evidence,
                lacked=list(lacked or []),
                notes=[*notes, *result.notes],
            )
            # each of these is extra to the ranked causes: a failure is a note, never a lost analysis
            try:
                analysis.category = categorize(context=context, signals=signals, hypotheses=result.hypotheses)
            except Exception as e:  # noqa: BLE001
                analysis.notes.append(f"categorisation failed: {e.__class__.__name__}: {e}"[:300])
                log.exception("categorisation failed")
            self._team_labels(context, analysis)
            try:
                labels = context.incident.alerts[0].labels if context.incident.alerts else {}
                platform = "kubernetes" if context.kubernetes else platform_of(signals, labels)
                analysis.recommendations = recommend(hypotheses=result.hypotheses, runbooks=runbooks,
                                                     similar=similar, platform=platform)
            except Exception as e:  # noqa: BLE001
                analysis.notes.append(f"recommendations failed: {e.__class__.__name__}: {e}"[:300])
                log.exception("recommendations failed")
            try:
                analysis.summary = summarize(context=context, analysis=analysis)
            except Exception as e:  # noqa: BLE001
                analysis.notes.append(f"summary failed: {e.__class__.__name__}: {e}"[:300])
                log.exception("summary failed")

        if self.llm is not None:
            with _timed(timings, "llm"):
                try:
                    analysis = self.llm.refine(context=context, analysis=analysis)
                except Exception as e:  # noqa: BLE001 - an LLM failure never loses the answer
                    analysis.llm = {"used": False, "fallback_reason": f"{e.__class__.__name__}: {e}"[:300]}
                    log.warning("llm refinement failed, deterministic answer kept")

        timings["total"] = (time.perf_counter() - started) * 1000.0
        analysis.timings_ms = {k: round(v, 2) for k, v in timings.items()}
        for stage, ms in timings.items():
            self.metrics.stage_seconds.labels(stage=stage).observe(ms / 1000.0)
        self.metrics.analyses.inc()
        return analysis

    def _team_labels(self, context: IncidentContext, analysis: Analysis) -> None:
        """The team's own labels (``taxonomy`` settings); a missing or broken model is a note."""
        cfg = getattr(self.settings, "taxonomy", None)
        if cfg is None or not cfg.enabled:
            return
        if cfg.model_path is None:
            analysis.notes.append("team labels unavailable: taxonomy.enabled is true but taxonomy.model_path is not set")
            return
        from bot.reasoning.team_taxonomy import incident_text, load_cached

        try:
            taxonomy = load_cached(Path(cfg.model_path))
            analysis.team_labels = taxonomy.label(incident_text(context, analysis), min_score=cfg.min_score)
        except Exception as e:  # noqa: BLE001 - extra to the ranked causes: never lose the analysis
            analysis.notes.append(f"team labels unavailable: {e}"[:300])
            log.warning("team labels failed: %s", e)

    def gather(self, context: IncidentContext, *, timings: dict[str, float] | None = None) -> GatheredEvidence:
        """The ranker's inputs: signals of the alert and every detector, then similar incidents and runbook
        sections (bundle history and the shared index). Training and benchmarks call this too."""
        with reference_time(context.incident.started_at):
            return self._gather(context, timings=timings)

    def _gather(self, context: IncidentContext, *, timings: dict[str, float] | None = None) -> GatheredEvidence:
        timings = timings if timings is not None else {}
        notes: list[str] = []
        signals = self._alert_signals(context.incident)
        for name, detector in self.detectors:
            with _timed(timings, name):
                try:
                    signals.extend(detector(context))
                except Exception as e:  # noqa: BLE001 - one failing detector must not lose the analysis
                    notes.append(f"detector {name} failed: {e.__class__.__name__}: {e}"[:300])
                    log.exception("detector failed", extra={"detector": name})
        semantics_note = log_semantics_note() if context.logs else None
        if semantics_note:
            notes.append(semantics_note)
        with _timed(timings, "retrieval"):
            similar, runbooks = self._retrieve(context, signals, notes)
        return GatheredEvidence(signals=signals, similar=similar, runbooks=runbooks, notes=notes)

    @staticmethod
    def _alert_signals(incident: Incident) -> list[Signal]:
        out: list[Signal] = []
        for i, alert in enumerate(incident.alerts[:20]):
            text = " ".join(x for x in (alert.name, alert.summary, alert.description) if x)
            out.append(
                Signal(
                    source=SignalSource.ALERT,
                    detector="alert",
                    service=alert.service,
                    kind=None,
                    title=text[:200] or "alert",
                    score=0.5,
                    started_at=alert.starts_at,
                    evidence=[
                        Evidence(id=f"alert:{i}", type=EvidenceType.ALERT, summary=text[:300],
                                 service=alert.service, ts=alert.starts_at, url=alert.generator_url)
                    ],
                    attributes={"labels": alert.labels, "status": alert.status.value},
                )
            )
        return out

    def _retrieve(
        self, context: IncidentContext, signals: list[Signal], notes: list[str]
    ) -> tuple[list[SimilarIncident], list[tuple[Document, float]]]:
        from retrieval import Retriever, SearchFilters

        sources: list[Retriever] = []
        if context.history:
            local = Retriever.in_memory(self.settings.retrieval.model_copy(update={"backend": "memory"}),
                                        model_dir=self.settings.data_dir / "models")
            local.upsert(context.history)
            sources.append(local)
        if self.retriever is not None:
            sources.append(self.retriever)
        if not sources:
            return [], []
        k = self.settings.retrieval.top_k
        feedback = None
        if self.store is not None:  # the candidates' votes, counted (no storage import for a one-bundle analysis)
            from bot.storage.store import StoredFeedback

            feedback = StoredFeedback(self.store)
        incident_hits: list[SearchHit] = []
        runbook_hits: list[SearchHit] = []
        for source in sources:
            try:
                query = source.query_for_incident(context.incident, signals)
                incident_hits += source.search(query, k=k, filters=SearchFilters(type=DocumentType.INCIDENT),
                                               feedback=feedback)
                runbook_hits += source.search(query, k=k, filters=SearchFilters(type=DocumentType.RUNBOOK),
                                              feedback=feedback)
            except RetrievalError as e:
                notes.append(f"retrieval unavailable: {e}")
        incident_hits.sort(key=lambda h: h.score, reverse=True)
        runbook_hits.sort(key=lambda h: h.score, reverse=True)
        similar: list[SimilarIncident] = []
        seen: set[str] = set()
        for hit in incident_hits:
            doc = hit.document
            if doc.id in seen or doc.id == context.incident.id:
                continue
            seen.add(doc.id)
            similar.append(
                SimilarIncident(
                    id=doc.id, title=doc.title, score=round(float(hit.score), 4), resolution=doc.resolution,
                    url=doc.url, root_cause_service=doc.root_cause_service, root_cause_kind=doc.root_cause_kind,
                    why=hit.why,
                )
            )
        runbooks = [(h.document, float(h.score)) for h in runbook_hits[:k]]
        return similar[:k], runbooks

    # ---- incident lifecycle ------------------------------------------------------------------

    def _require_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("this pipeline was built without storage")
        return self.store

    def accept_alerts(self, alerts: list[Alert]) -> IntakeResult:
        """Persist alerts into incidents (dedup and grouping). Analysis is a separate step."""
        return self.accept_alert_batches([alerts])[0]

    def accept_alert_batches(self, batches: list[list[Alert]]) -> list[IntakeResult]:
        """Several deliveries in one transaction (group commit), one result per delivery."""
        assert self._intake is not None, "accepting alerts needs a store"
        store = self._require_store()
        results = self._intake.accept_many(batches)
        self.metrics.alerts_received.inc(sum(len(alerts) for alerts in batches))
        if self._outbox and any(r.created or r.resolved for r in results):
            self._emit(EventType.INCIDENT_CREATED)  # written by intake in its transaction: wake the relays
        for result in results:
            for incident_id in result.created if not self._outbox else ():
                self.events.publish("incident.created", incident=store.get_incident(incident_id=incident_id))
            for incident_id in result.updated:
                self.events.publish("incident.updated", incident_id=incident_id)
            for incident_id in result.resolved if not self._outbox else ():
                self.events.publish("incident.resolved", incident=store.get_incident(incident_id=incident_id))
        return results

    def raise_early_warning(self, *, alert: Alert, details: dict[str, Any] | None = None) -> IntakeResult:
        """An early warning from the prediction job enters like an alert (deduplicated by its key) and its
        incident is marked as an early warning."""
        result = self.accept_alerts([alert])
        store = self._require_store()
        for incident_id in result.created:
            incident = store.get_incident(incident_id=incident_id)
            incident.is_early_warning = True
            store.save_incident(incident=incident)
        if self._outbox:
            store.add_events(events=[OutboxEvent(type=EventType.WARNING_RAISED, payload=WarningRaised(
                alert=alert.model_dump(mode="json"), details=details or {}, incident_ids=result.incident_ids))])
        self._emit(EventType.WARNING_RAISED, alert=alert, details=details or {}, incident_ids=result.incident_ids)
        return result

    def build_context(self, incident: Incident) -> IncidentContext:
        if self.context_provider is not None:
            return self.context_provider(incident)
        return IncidentContext(incident=incident)

    def analyze_job(self, job: Job) -> Analysis:
        """Analyse a claimed queue row: the analysis is saved in the transaction that completes the row."""
        return self.analyze_incident(incident_id=job.incident_id, job=job)

    def analyze_queued(self, incident_ids: list[str]) -> int:
        """Claim and analyse these incidents' queue rows now (a process with no runner); rows another runner
        holds are left to it. Returns the analyses saved; a failure is recorded on its row."""
        from bot.pipeline.queue import runner_id
        from bot.storage import jobs

        store, cfg = self._require_store(), self.settings.analysis
        with store.engine.begin() as conn:
            claimed = jobs.claim(conn, owner=runner_id(), limit=len(incident_ids), lease_s=cfg.lease_s,
                                 incident_ids=incident_ids)
        done = 0
        for job in claimed:
            try:
                self.analyze_job(job)
                done += 1
            except jobs.LeaseLost:
                continue
            except Exception as e:  # noqa: BLE001 - recorded on the row, retried by any runner
                log.warning("analysis failed", extra={"incident_id": job.incident_id, "error": str(e)[:300]})
                self.metrics.analysis_failures.inc()
                with store.engine.begin() as conn:
                    jobs.fail(conn, job, error=f"{e.__class__.__name__}: {e}", max_attempts=cfg.max_attempts,
                              retry_after_s=cfg.retry_after_s)
        return done

    def analyze_incident(self, *, incident_id: str, job: Job | None = None) -> Analysis:
        store = self._require_store()
        incident = store.get_incident(incident_id=incident_id)
        context = self.build_context(incident)
        lacked = [name for name, present in (("logs", context.logs), ("metrics", context.metrics),
                                             ("events", context.events), ("topology", context.topology))
                  if not present]
        analysis = self.analyze_context(context, lacked=lacked)
        provider_notes = getattr(self.context_provider, "notes", None)
        if isinstance(provider_notes, dict):
            analysis.notes.extend(provider_notes.pop(incident_id, []))
        store.save_analysis(analysis=analysis, job=job, events=self._events(OutboxEvent(
            type=EventType.ANALYSIS_READY, payload=AnalysisReady(incident_id=incident_id, analysis_id=analysis.id))))
        self._emit(EventType.ANALYSIS_READY, incident=incident, analysis=analysis)
        return analysis

    def get_incident(self, *, incident_id: str) -> tuple[Incident, Analysis | None]:
        store = self._require_store()
        return store.get_incident(incident_id=incident_id), store.latest_analysis(incident_id=incident_id)

    def list_incidents(self, *, status: str | None = None, service: str | None = None, category: str | None = None,
                       q: str | None = None, limit: int = 100, offset: int = 0) -> list[Incident]:
        """Incidents, newest first, filtered; a page of ``limit`` from ``offset``."""
        return self._require_store().list_incidents(status=status, service=service, category=category, q=q,
                                                    limit=limit, offset=offset)

    def ping(self) -> None:
        """Raise when the database does not answer (readiness)."""
        self._require_store().ping()

    def record_change(self, *, event: ChangeEvent) -> None:
        """Keep a deploy, config change or flag flip as evidence for the analyses around its time."""
        self._require_store().add_change_event(event=event)

    def remember(self, *, key: str, data: dict[str, Any]) -> None:
        """Keep a small piece of surface state (a Teams conversation reference) under ``key``."""
        self._require_store().put_state(key=key, data=data)

    def recall(self, *, key: str) -> dict[str, Any] | None:
        """What ``remember`` kept under ``key``, or None."""
        return self._require_store().get_state(key=key)

    def acknowledge(self, *, incident_id: str, user: str = "unknown") -> Incident:
        store = self._require_store()
        incident = store.get_incident(incident_id=incident_id)
        if incident.status == IncidentStatus.OPEN:
            incident.status = IncidentStatus.ACKNOWLEDGED
            incident.acknowledged_at = utcnow()
            store.save_incident(incident=incident, events=self._events(OutboxEvent(
                type=EventType.INCIDENT_ACKNOWLEDGED, payload=IncidentEvent(incident_id=incident.id, user=user))))
            self._emit(EventType.INCIDENT_ACKNOWLEDGED, incident=incident, user=user)
        return incident

    def resolve(
        self,
        *,
        incident_id: str,
        user: str = "unknown",
        cause_service: str | None = None,
        cause_kind: str | None = None,
        resolution: str | None = None,
    ) -> Incident:
        """Resolve an incident; a confirmed cause is stored, learned from and indexed for retrieval."""
        store = self._require_store()
        incident = store.get_incident(incident_id=incident_id)
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = incident.resolved_at or utcnow()
        if incident.acknowledged_at is None:
            incident.acknowledged_at = incident.resolved_at
        if cause_service:
            incident.confirmed_service = cause_service
        if cause_kind:
            incident.confirmed_kind = cause_kind
        if resolution:
            incident.resolution = resolution
        store.save_incident(incident=incident, events=self._events(OutboxEvent(
            type=EventType.INCIDENT_RESOLVED, payload=IncidentEvent(incident_id=incident.id, user=user))))
        if incident.confirmed_kind and incident.confirmed_service:
            self.record_feedback(feedback=Feedback(incident_id=incident.id, service=incident.confirmed_service,
                                                   kind=incident.confirmed_kind, vote=Vote.FIXED, user=user,
                                                   surface="resolve", comment=resolution))
            self._index_resolved(incident)
        self._emit(EventType.INCIDENT_RESOLVED, incident=incident, user=user)
        return incident

    def _index_resolved(self, incident: Incident) -> None:
        """A resolved incident with a confirmed cause becomes a past incident for retrieval."""
        if self.retriever is None:
            return
        analysis = self._require_store().latest_analysis(incident_id=incident.id)
        try:
            self.retriever.index_resolved_incident(
                incident, summary=analysis.summary if analysis else "",
                signals=analysis.signals[:8] if analysis else (),
            )
        except RetrievalError:
            log.warning("could not index resolved incident", extra={"incident_id": incident.id})

    def record_feedback(self, *, feedback: Feedback) -> Feedback:
        store = self._require_store()
        try:
            store.get_incident(incident_id=feedback.incident_id, with_alerts=False)
        except NotFoundError:
            raise
        store.add_feedback(feedback=feedback)
        self.events.publish("feedback.recorded", feedback=feedback)
        return feedback


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - t0) * 1000.0
