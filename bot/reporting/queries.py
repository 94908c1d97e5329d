"""Read what the reports need from the ``Store`` in a few queries (no N+1 per incident).

These are read-only queries over the lead's tables; they live here so that ``store.py`` stays the
lead's. ``iter_incident_pages`` reads a range a keyset page at a time (what the reports and the incident
list use); ``load_snapshot`` reads a range whole (the reference the paged reports are tested against). Both return plain domain objects;
every figure is computed from them by the folds in the sibling modules.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from bot.domain import Analysis, Feedback, Incident, IncidentStatus
from bot.domain.vocabulary import category_of, is_cause_kind
from bot.reporting.scope import ReportScope
from bot.storage import Store
from bot.storage.tables import AlertRow, AnalysisRow, ChatPostRow, FeedbackRow, IncidentRow, KeyValueRow

_CHUNK = 500
GAMEDAY_PREFIX = "gameday:"


@dataclass
class IncidentFacts:
    """One incident with its analyses, as the reports see it."""

    incident: Incident
    analyses: list[Analysis] = field(default_factory=list)  # oldest first
    stored_category: str | None = None

    @property
    def answer(self) -> Analysis | None:
        """The analysis people acted on: the latest one made before resolution (else the first one)."""
        if not self.analyses:
            return None
        resolved = self.incident.resolved_at
        if resolved is None:
            return self.analyses[-1]
        before = [a for a in self.analyses if a.created_at <= resolved]
        return before[-1] if before else self.analyses[0]

    @property
    def category(self) -> str:
        """The confirmed cause's category, else the analysis' category, else ``unknown``."""
        if is_cause_kind(self.incident.confirmed_kind):
            return category_of(self.incident.confirmed_kind).value
        answer = self.answer
        if answer is not None and answer.category.label:
            return answer.category.label
        return self.stored_category or "unknown"


@dataclass
class Snapshot:
    scope: ReportScope
    incidents: list[IncidentFacts]  # created in the scope, filters applied
    later: list[IncidentFacts]  # created after ``until`` within the early-warning horizon (same filters)
    feedback: list[Feedback]  # on the incidents in scope


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _incidents_in(scope: ReportScope, until: datetime, q: str | None, status: str | None) -> Any:
    query = select(IncidentRow).where(col(IncidentRow.created_at) >= scope.since, col(IncidentRow.created_at) < until)
    if scope.service:
        query = query.where(IncidentRow.service == scope.service)
    if scope.severity:
        query = query.where(IncidentRow.severity == scope.severity)
    if status:
        query = query.where(IncidentRow.status == status)
    if q:
        query = query.where(col(IncidentRow.title).ilike(f"%{q}%") | col(IncidentRow.id).ilike(f"%{q}%")
                            | col(IncidentRow.service).ilike(f"%{q}%"))
    return query


def _incident_rows(store: Store, scope: ReportScope, until: datetime, q: str | None,
                   status: str | None) -> list[IncidentRow]:
    with store.session() as s:
        return list(s.exec(_incidents_in(scope, until, q, status)
                           .order_by(col(IncidentRow.created_at), col(IncidentRow.id))).all())


def iter_incident_pages(*, store: Store, scope: ReportScope, q: str | None = None, status: str | None = None,
                        page_size: int = _CHUNK, until: datetime | None = None, newest_first: bool = True,
                        after: tuple[datetime, str] | None = None) -> Generator[list[IncidentFacts], None, None]:
    """The scope's incidents (created before ``until``, default the scope's end), one page at a time with
    their analyses, newest first (or oldest first): keyset paging on (``created_at``, ``id``), so neither an
    export nor a report holds the whole range in memory. ``after`` starts past that (created_at, id) key.
    A page may hold fewer incidents than ``page_size`` when the category filter drops some (or none)."""
    end = scope.until if until is None else until
    while True:
        query = _incidents_in(scope, end, q, status)
        created, ident = col(IncidentRow.created_at), col(IncidentRow.id)
        if after is not None:
            if newest_first:
                query = query.where(or_(created < after[0], and_(created == after[0], ident < after[1])))
            else:
                query = query.where(or_(created > after[0], and_(created == after[0], ident > after[1])))
        order = (created.desc(), ident.desc()) if newest_first else (created, ident)
        with store.session() as s:
            rows = list(s.exec(query.order_by(*order).limit(page_size)).all())
        if not rows:
            return
        analyses = _analyses_by_incident(store, [r.id for r in rows])
        facts = [IncidentFacts(incident=Incident.model_validate(r.data), analyses=analyses.get(r.id, []),
                               stored_category=r.category) for r in rows]
        yield [f for f in facts if f.category == scope.category] if scope.category else facts
        if len(rows) < page_size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def incident_list_page(*, store: Store, scope: ReportScope, q: str | None = None, status: str | None = None,
                  limit: int = 100, after: tuple[datetime, str] | None = None,
                  ) -> tuple[list[IncidentFacts], tuple[datetime, str] | None]:
    """One page of the incident list, newest first: up to ``limit`` incidents past the key ``after``, and
    the key to start the next page from (``None`` on the last page)."""
    found: list[IncidentFacts] = []
    pages = iter_incident_pages(store=store, scope=scope, q=q, status=status, page_size=min(limit + 1, _CHUNK),
                                after=after)
    try:
        for page in pages:
            found.extend(page)
            if len(found) > limit:
                break
    finally:
        pages.close()
    if len(found) <= limit:
        return found, None
    last = found[limit - 1].incident
    return found[:limit], (last.created_at, last.id)


def count_incidents(*, store: Store, scope: ReportScope, q: str | None = None, status: str | None = None) -> int:
    """How many incidents the scope holds: one COUNT, or (the category being the answer's, not a column)
    a paged count."""
    if scope.category:
        return sum(len(page) for page in iter_incident_pages(store=store, scope=scope, q=q, status=status))
    with store.session() as s:
        inner = _incidents_in(scope, scope.until, q, status).subquery()
        return int(s.exec(select(func.count()).select_from(inner)).one())


@dataclass
class FeedbackTally:
    """Feedback on some incidents, counted: what the feedback report needs (no row kept)."""

    total: int = 0
    incidents: int = 0  # incidents with at least one vote
    votes: Counter[str] = field(default_factory=Counter)
    surfaces: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, feedback: Iterable[Feedback]) -> FeedbackTally:
        tally, ids = cls(), set()
        for fb in feedback:
            tally.total += 1
            tally.votes[fb.vote.value] += 1
            tally.surfaces[fb.surface] += 1
            ids.add(fb.incident_id)
        tally.incidents = len(ids)
        return tally

    @classmethod
    def query(cls, store: Store, incident_ids: Sequence[str]) -> FeedbackTally:
        """Counted in the database (GROUP BY), a chunk of incident ids at a time."""
        tally = cls()
        with store.session() as s:
            for chunk in _chunks(incident_ids):
                inside = col(FeedbackRow.incident_id).in_(chunk)
                grouped = s.exec(select(FeedbackRow.vote, FeedbackRow.surface, func.count())
                                 .where(inside).group_by(FeedbackRow.vote, FeedbackRow.surface)).all()
                for vote, surface, n in grouped:
                    tally.total += int(n)
                    tally.votes[vote] += int(n)
                    tally.surfaces[surface] += int(n)
                tally.incidents += int(s.exec(select(func.count(func.distinct(FeedbackRow.incident_id)))
                                              .where(inside)).one())
        return tally

    def add(self, other: FeedbackTally) -> None:
        """Fold in the tally of other incidents (disjoint from these)."""
        self.total += other.total
        self.incidents += other.incidents
        self.votes.update(other.votes)
        self.surfaces.update(other.surfaces)


def _analyses_by_incident(store: Store, ids: Sequence[str]) -> dict[str, list[Analysis]]:
    out: dict[str, list[Analysis]] = defaultdict(list)
    with store.session() as s:
        for chunk in _chunks(ids):
            rows = s.exec(select(AnalysisRow).where(col(AnalysisRow.incident_id).in_(chunk))
                          .order_by(col(AnalysisRow.created_at))).all()
            for row in rows:
                out[row.incident_id].append(Analysis.model_validate(row.data))
    for items in out.values():
        items.sort(key=lambda a: a.created_at)
    return out


def load_snapshot(*, store: Store, scope: ReportScope, horizon: timedelta = timedelta(hours=24),
                  q: str | None = None, status: str | None = None) -> Snapshot:
    """Incidents of the scope (plus those up to ``horizon`` after it), their analyses and feedback."""
    rows = _incident_rows(store, scope, scope.until + horizon, q, status)
    analyses = _analyses_by_incident(store, [r.id for r in rows])
    facts: list[IncidentFacts] = []
    for row in rows:
        incident = Incident.model_validate(row.data)
        facts.append(IncidentFacts(incident=incident, analyses=analyses.get(row.id, []),
                                   stored_category=row.category))
    if scope.category:
        facts = [f for f in facts if f.category == scope.category]
    inside = [f for f in facts if f.incident.created_at < scope.until]
    later = [f for f in facts if f.incident.created_at >= scope.until]
    feedback: list[Feedback] = []
    ids = [f.incident.id for f in inside]
    with store.session() as s:
        for chunk in _chunks(ids):
            fb_rows = s.exec(select(FeedbackRow).where(col(FeedbackRow.incident_id).in_(chunk))
                             .order_by(col(FeedbackRow.created_at))).all()
            feedback.extend(Feedback.model_validate(r.data) for r in fb_rows)
    return Snapshot(scope=scope, incidents=inside, later=later, feedback=feedback)


def open_incidents(*, store: Store, service: str | None = None, limit: int = 50) -> list[Incident]:
    """Incidents not resolved yet, newest first, whatever their age."""
    with store.session() as s:
        query = select(IncidentRow).where(IncidentRow.status != IncidentStatus.RESOLVED.value)
        if service:
            query = query.where(IncidentRow.service == service)
        rows = s.exec(query.order_by(col(IncidentRow.created_at).desc()).limit(limit)).all()
        return [Incident.model_validate(r.data) for r in rows]


def known_services(*, store: Store) -> list[str]:
    with store.session() as s:
        rows = s.exec(select(IncidentRow.service).distinct()).all()
        return sorted(r for r in rows if r)


def chat_posts(*, store: Store, incident_id: str) -> list[dict[str, Any]]:
    """Where an incident was posted (Slack/Teams threads), as plain dicts."""
    with store.session() as s:
        rows = s.exec(select(ChatPostRow).where(ChatPostRow.incident_id == incident_id)
                      .order_by(col(ChatPostRow.created_at))).all()
        return [{"surface": r.surface, "channel": r.channel, "message_ref": r.message_ref, "state": r.state,
                 "created_at": r.created_at, "data": dict(r.data or {})} for r in rows]


def alert_receipts(*, store: Store, incident_id: str) -> dict[str, datetime]:
    """When each alert of an incident was received (alert id -> received_at)."""
    with store.session() as s:
        rows = s.exec(select(AlertRow).where(AlertRow.incident_id == incident_id)).all()
        return {r.id: r.received_at for r in rows}


def gameday_runs(*, store: Store) -> list[dict[str, Any]]:
    """Every key/value state under ``gameday:`` (written by the game-day runner), oldest first."""
    with store.session() as s:
        rows = s.exec(select(KeyValueRow).where(col(KeyValueRow.key).startswith(GAMEDAY_PREFIX))
                      .order_by(col(KeyValueRow.updated_at))).all()
        return [{"key": r.key, "updated_at": r.updated_at, "data": dict(r.data or {})} for r in rows]


def analyses_of(*, store: Store, incident_id: str) -> list[Analysis]:
    """Every analysis of one incident, oldest first."""
    return _analyses_by_incident(store, [incident_id]).get(incident_id, [])
