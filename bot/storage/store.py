"""The repository: every read and write of incidents, alerts, analyses and feedback.

Service functions take a ``Store``; nothing else touches the session. Methods are keyword-only,
synchronous (SQLAlchemy sessions), and safe to call from a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from bot.domain import (
    Alert,
    Analysis,
    ChangeEvent,
    Feedback,
    Incident,
    IncidentStatus,
    NotFoundError,
    StorageError,
    Vote,
    VoteCount,
    utcnow,
)
from bot.domain.events import OutboxEvent
from bot.storage import jobs, outbox
from bot.storage.database import check, create_schema, make_engine
from bot.storage.tables import (
    AlertRow,
    AnalysisRow,
    ChangeEventRow,
    ChatPostRow,
    DeliveryState,
    FeedbackRow,
    IncidentRow,
    KeyValueRow,
)

log = logging.getLogger(__name__)


def _aware(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, schema: str | None = None, echo: bool = False, migrate: bool = True) -> Store:
        store = cls(make_engine(url, schema=schema, echo=echo))
        if migrate:
            create_schema(store.engine)
        return store

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as e:
            raise StorageError(f"database error: {e.__class__.__name__}: {str(e).splitlines()[0]}") from e

    def ping(self) -> None:
        check(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ---- incidents -------------------------------------------------------------------------

    @staticmethod
    def _incident_row(incident: Incident, category: str | None = None) -> IncidentRow:
        data = incident.model_dump(mode="json", exclude={"alerts"})
        return IncidentRow(
            id=incident.id,
            fingerprint=incident.fingerprint,
            title=incident.title[:500],
            service=incident.service,
            severity=incident.severity.value,
            status=incident.status.value,
            source=incident.source,
            category=category,
            is_early_warning=incident.is_early_warning,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            acknowledged_at=incident.acknowledged_at,
            resolved_at=incident.resolved_at,
            confirmed_service=incident.confirmed_service,
            confirmed_kind=incident.confirmed_kind,
            data=data,
        )

    @staticmethod
    def _incident_from(row: IncidentRow, alerts: Sequence[AlertRow] = ()) -> Incident:
        incident = Incident.model_validate(row.data)
        incident.alerts = [Alert.model_validate(a.data) for a in alerts]
        return incident

    def save_incident(self, *, incident: Incident, events: Sequence[OutboxEvent] = ()) -> Incident:
        """Insert or update an incident (its alerts are stored with ``add_alert``); ``events`` are written to
        the outbox in the same transaction."""
        incident.updated_at = utcnow()
        with self.session() as s:
            existing = s.get(IncidentRow, incident.id)
            row = self._incident_row(incident, category=existing.category if existing else None)
            if existing is None:
                s.add(row)
            else:
                for field in row.model_fields:
                    if field != "category":
                        setattr(existing, field, getattr(row, field))
            outbox.write(s, events)
            s.commit()
        return incident

    def get_incident(self, *, incident_id: str, with_alerts: bool = True) -> Incident:
        with self.session() as s:
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise NotFoundError(f"no incident {incident_id!r}")
            alerts: Sequence[AlertRow] = ()
            if with_alerts:
                alerts = s.exec(
                    select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(col(AlertRow.received_at))
                ).all()
            return self._incident_from(row, alerts)

    def find_open_incident(self, *, fingerprint: str) -> Incident | None:
        with self.session() as s:
            row = s.exec(
                select(IncidentRow)
                .where(IncidentRow.fingerprint == fingerprint, IncidentRow.status != IncidentStatus.RESOLVED.value)
                .order_by(col(IncidentRow.created_at).desc())
            ).first()
            return self._incident_from(row) if row else None

    def find_incident_by_alert_fingerprint(self, *, fingerprint: str, open_only: bool = True) -> Incident | None:
        with self.session() as s:
            q = select(IncidentRow).join(AlertRow, col(AlertRow.incident_id) == col(IncidentRow.id))
            q = q.where(AlertRow.fingerprint == fingerprint)
            if open_only:
                q = q.where(IncidentRow.status != IncidentStatus.RESOLVED.value)
            row = s.exec(q.order_by(col(IncidentRow.created_at).desc())).first()
            return self._incident_from(row) if row else None

    def list_incidents(
        self,
        *,
        status: str | None = None,
        service: str | None = None,
        category: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        q: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Incident]:
        with self.session() as s:
            query = select(IncidentRow)
            if status:
                query = query.where(IncidentRow.status == status)
            if service:
                query = query.where(IncidentRow.service == service)
            if category:
                query = query.where(IncidentRow.category == category)
            if since:
                query = query.where(col(IncidentRow.created_at) >= since)
            if until:
                query = query.where(col(IncidentRow.created_at) < until)
            if q:
                query = query.where(col(IncidentRow.title).ilike(f"%{q}%"))
            rows = s.exec(query.order_by(col(IncidentRow.created_at).desc()).offset(offset).limit(limit)).all()
            return [self._incident_from(r) for r in rows]

    def count_incidents(self) -> int:
        with self.session() as s:
            return int(s.exec(select(func.count()).select_from(IncidentRow)).one())

    # ---- alerts ----------------------------------------------------------------------------

    def add_alert(self, *, incident_id: str, alert: Alert, received_at: datetime | None = None) -> None:
        with self.session() as s:
            existing = s.get(AlertRow, alert.id)
            row = AlertRow(
                id=alert.id,
                incident_id=incident_id,
                fingerprint=alert.compute_fingerprint(),
                source=alert.source,
                status=alert.status.value,
                name=alert.name[:300],
                service=alert.service,
                starts_at=alert.starts_at,
                received_at=received_at or utcnow(),
                data=alert.model_dump(mode="json"),
            )
            if existing is None:
                s.add(row)
            else:
                existing.status, existing.data, existing.incident_id = row.status, row.data, incident_id
            s.commit()

    def count_alerts(self, *, incident_id: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count()).select_from(AlertRow)
            if incident_id:
                q = q.where(AlertRow.incident_id == incident_id)
            return int(s.exec(q).one())

    # ---- analyses --------------------------------------------------------------------------

    def save_analysis(self, *, analysis: Analysis, job: jobs.Job | None = None,
                      events: Sequence[OutboxEvent] = ()) -> Analysis:
        """Store an analysis; with ``job``, its queue row is completed in the same transaction (nothing is
        saved and ``jobs.LeaseLost`` is raised when another runner took the row over)."""
        top = analysis.top
        with self.session() as s:
            s.add(
                AnalysisRow(
                    id=analysis.id,
                    incident_id=analysis.incident_id,
                    created_at=analysis.created_at,
                    category=analysis.category.label,
                    top_service=top.service if top else None,
                    top_kind=top.kind if top else None,
                    top_confidence=top.confidence if top else None,
                    duration_ms=analysis.timings_ms.get("total"),
                    data=analysis.model_dump(mode="json"),
                )
            )
            inc = s.get(IncidentRow, analysis.incident_id)
            if inc is not None:
                inc.category = analysis.category.label
                s.add(inc)
            if job is not None and not jobs.complete(s, job):
                s.rollback()
                raise jobs.LeaseLost(f"analysis of {analysis.incident_id} lost its lease; not saved")
            outbox.write(s, events)
            s.commit()
        return analysis

    def add_events(self, *, events: Sequence[OutboxEvent]) -> None:
        """Events alone (their state change was committed by an earlier call)."""
        with self.session() as s:
            outbox.write(s, events)
            s.commit()

    def latest_analysis(self, *, incident_id: str) -> Analysis | None:
        with self.session() as s:
            row = s.exec(
                select(AnalysisRow)
                .where(AnalysisRow.incident_id == incident_id)
                .order_by(col(AnalysisRow.created_at).desc())
            ).first()
            return Analysis.model_validate(row.data) if row else None

    def list_analyses(self, *, since: datetime | None = None, limit: int = 10_000) -> list[Analysis]:
        with self.session() as s:
            q = select(AnalysisRow)
            if since:
                q = q.where(col(AnalysisRow.created_at) >= since)
            rows = s.exec(q.order_by(col(AnalysisRow.created_at)).limit(limit)).all()
            return [Analysis.model_validate(r.data) for r in rows]

    # ---- feedback --------------------------------------------------------------------------

    def add_feedback(self, *, feedback: Feedback) -> Feedback:
        with self.session() as s:
            s.add(
                FeedbackRow(
                    id=feedback.id,
                    incident_id=feedback.incident_id,
                    analysis_id=feedback.analysis_id,
                    service=feedback.service,
                    kind=feedback.kind,
                    document_id=feedback.document_id,
                    vote=feedback.vote.value,
                    user=feedback.user,
                    surface=feedback.surface,
                    created_at=feedback.created_at,
                    data=feedback.model_dump(mode="json"),
                )
            )
            s.commit()
        return feedback

    def list_feedback(self, *, incident_id: str | None = None, limit: int = 100_000) -> list[Feedback]:
        with self.session() as s:
            q = select(FeedbackRow)
            if incident_id:
                q = q.where(FeedbackRow.incident_id == incident_id)
            rows = s.exec(q.order_by(col(FeedbackRow.created_at)).limit(limit)).all()
            return [Feedback.model_validate(r.data) for r in rows]

    def feedback_votes(self, *, keys: Collection[str]) -> list[VoteCount]:
        """The feedback naming one of ``keys`` as its document (or, for an incident-level "fixed" vote without
        a document, as its incident), counted per document/incident, vote and service in the database: what
        retrieval boosts with, at the cost of one aggregate query on indexed columns, whatever the number of
        votes stored (every reader, in any process, sees what was committed before it)."""
        wanted = sorted(set(keys) - {""})
        out: list[VoteCount] = []
        with self.session() as s:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                doc = col(FeedbackRow.document_id)
                has_doc = func.coalesce(doc, "") != ""
                inner = (
                    select(doc.label("document_id"),
                           case((has_doc, literal_column("''")), else_=col(FeedbackRow.incident_id)).label("incident"),
                           col(FeedbackRow.vote).label("vote"), col(FeedbackRow.service).label("service"))
                    .where(or_(doc.in_(chunk), and_(~has_doc, col(FeedbackRow.vote) == Vote.FIXED.value,
                                                     col(FeedbackRow.incident_id).in_(chunk))))
                    .subquery()
                )
                grouped = sa_select(inner.c.document_id, inner.c.incident, inner.c.vote, inner.c.service, func.count()) \
                    .group_by(inner.c.document_id, inner.c.incident, inner.c.vote, inner.c.service)
                for document_id, incident, vote, service, n in s.execute(grouped).all():
                    out.append(VoteCount(document_id=document_id, incident_id=incident or "", vote=Vote(vote),
                                         service=service, count=int(n)))
        return out

    # ---- chat posts (exactly-once auto-posts) ---------------------------------------------

    def claim_chat_post(self, *, incident_id: str, surface: str, channel: str) -> bool:
        """True for exactly one caller per (incident, surface, channel), across processes."""
        now = utcnow()
        try:
            with self.session() as s:
                s.add(
                    ChatPostRow(
                        incident_id=incident_id, surface=surface, channel=channel, created_at=now, updated_at=now
                    )
                )
                s.commit()
            return True
        except IntegrityError:
            return False

    def get_chat_post(self, *, incident_id: str, surface: str, channel: str | None = None) -> ChatPostRow | None:
        with self.session() as s:
            q = select(ChatPostRow).where(ChatPostRow.incident_id == incident_id, ChatPostRow.surface == surface)
            if channel:
                q = q.where(ChatPostRow.channel == channel)
            return s.exec(q).first()

    def update_chat_post(
        self, *, post_id: int, state: str, message_ref: str | None = None, data: dict[str, Any] | None = None
    ) -> None:
        with self.session() as s:
            row = s.get(ChatPostRow, post_id)
            if row is None:
                raise NotFoundError(f"no chat post {post_id}")
            row.state = DeliveryState(state).value
            row.attempts += 1
            row.updated_at = utcnow()
            if message_ref is not None:
                row.message_ref = message_ref
            if data is not None:
                row.data = data
            s.add(row)
            s.commit()

    def pending_chat_posts(self, *, surface: str) -> list[ChatPostRow]:
        with self.session() as s:
            return list(
                s.exec(
                    select(ChatPostRow).where(ChatPostRow.surface == surface, ChatPostRow.state != DeliveryState.POSTED.value)
                ).all()
            )

    # ---- change events (deploys, config changes, flags) --------------------------------------

    def add_change_event(self, *, event: ChangeEvent) -> None:
        with self.session() as s:
            s.add(ChangeEventRow(ts=event.ts, kind=event.kind[:40], service=event.service, text=event.text[:2000]))
            s.commit()

    def list_change_events(self, *, since: datetime, until: datetime) -> list[ChangeEvent]:
        with self.session() as s:
            rows = s.exec(
                select(ChangeEventRow)
                .where(col(ChangeEventRow.ts) >= since, col(ChangeEventRow.ts) <= until)
                .order_by(col(ChangeEventRow.ts))
            ).all()
            return [ChangeEvent(ts=_aware(r.ts) or r.ts, kind=r.kind, service=r.service, text=r.text) for r in rows]

    # ---- key/value state -------------------------------------------------------------------

    def put_state(self, *, key: str, data: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.get(KeyValueRow, key)
            if row is None:
                s.add(KeyValueRow(key=key, updated_at=utcnow(), data=data))
            else:
                row.data, row.updated_at = data, utcnow()
                s.add(row)
            s.commit()

    def get_state(self, *, key: str) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.get(KeyValueRow, key)
            return dict(row.data) if row else None


class StoredFeedback:
    """The store as retrieval's ``FeedbackSource``: the candidates' votes, counted, read when a search needs
    them (``Store.feedback_votes``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def votes_on(self, keys: Collection[str]) -> list[VoteCount]:
        return self.store.feedback_votes(keys=keys)


__all__ = ["Store", "StoredFeedback", "_aware"]
