"""Test helpers: count the rows one SQL statement materialises as ORM objects, and bulk-seed a store."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.domain import Analysis, CategoryAssessment, Feedback, Hypothesis, Incident, IncidentStatus, Vote
from bot.storage import Store
from bot.storage.tables import AnalysisRow, FeedbackRow


class RowWatch:
    """The largest number of rows of each watched table that one statement turned into objects.

    Every statement the engine runs starts a new count; each ORM object loaded adds one to its table's
    count (SQLAlchemy's ``load`` event), so a query reading a whole range shows up as a large peak.
    """

    def __init__(self) -> None:
        self.current: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.loaded: Counter[str] = Counter()

    def statement(self, *_args: Any) -> None:
        self.current = Counter()

    def loader(self, table: str) -> Any:
        def on_load(_target: Any, _context: Any) -> None:
            self.current[table] += 1
            self.loaded[table] += 1
            self.peak[table] = max(self.peak[table], self.current[table])

        return on_load


@contextmanager
def watch_rows(store: Store, *tables: type) -> Iterator[RowWatch]:
    watch = RowWatch()
    hooks = [(t, watch.loader(t.__tablename__)) for t in tables]  # type: ignore[attr-defined]
    event.listen(store.engine, "before_cursor_execute", watch.statement)
    for table, hook in hooks:
        event.listen(table, "load", hook)
    try:
        yield watch
    finally:
        event.remove(store.engine, "before_cursor_execute", watch.statement)
        for table, hook in hooks:
            event.remove(table, "load", hook)


def bulk_incidents(store: Store, *, now: datetime, count: int, days: int = 20, seed: int = 1,
                   feedback_per_incident: int = 0, prefix: str = "inc-bulk") -> list[Incident]:
    """``count`` incidents over ``days`` before ``now``, each with an analysis (and votes), in one transaction."""
    rng = random.Random(seed)
    services, kinds = ("checkout", "search", "auth", "payments"), ("bad_deploy", "disk_full", "memory_leak")
    incidents: list[Incident] = []
    later: list[Any] = []  # analyses and feedback, inserted once their incidents are
    with store.session() as s:
        for n in range(count):
            created = now - timedelta(minutes=rng.randint(10, days * 24 * 60))
            service, kind = rng.choice(services), rng.choice(kinds)
            inc = Incident(id=f"{prefix}{n:05d}", fingerprint=f"fp-{prefix}{n}", title=f"{kind} on {service}",
                           service=service, created_at=created, started_at=created - timedelta(minutes=2),
                           is_early_warning=rng.random() < 0.05)
            if rng.random() < 0.7:
                inc.acknowledged_at = created + timedelta(minutes=rng.uniform(1, 30))
                inc.resolved_at = inc.acknowledged_at + timedelta(minutes=rng.uniform(5, 300))
                inc.status = IncidentStatus.RESOLVED
                if rng.random() < 0.7:
                    inc.confirmed_service, inc.confirmed_kind = service, kind
            hyps = [Hypothesis(rank=i + 1, service=rng.choice(services), kind=rng.choice(kinds), title="h",
                               confidence=round(rng.uniform(0.1, 0.9), 3)) for i in range(3)]
            analysis = Analysis(id=f"ana-{prefix}{n:05d}", incident_id=inc.id, created_at=created + timedelta(seconds=20),
                                category=CategoryAssessment(label="deploy", confidence=0.5), hypotheses=hyps,
                                timings_ms={"total": rng.uniform(50, 500)},
                                llm={"used": True, "latency_ms": rng.uniform(100, 900), "cost_usd": 0.001})
            s.add(Store._incident_row(inc, category="deploy"))
            top = analysis.top
            later.append(AnalysisRow(id=analysis.id, incident_id=inc.id, created_at=analysis.created_at, category="deploy",
                              top_service=top.service if top else None, top_kind=top.kind if top else None,
                              top_confidence=top.confidence if top else None, data=analysis.model_dump(mode="json")))
            for v in range(feedback_per_incident):
                fb = Feedback(id=f"fb-{prefix}{n:05d}-{v}", incident_id=inc.id, analysis_id=analysis.id,
                              vote=rng.choice([Vote.UP, Vote.DOWN, Vote.FIXED]), surface=rng.choice(["slack", "api"]),
                              service=service, kind=kind, created_at=created + timedelta(minutes=5))
                later.append(FeedbackRow(id=fb.id, incident_id=fb.incident_id, analysis_id=fb.analysis_id, service=fb.service,
                                  kind=fb.kind, document_id=fb.document_id, vote=fb.vote.value, user=fb.user,
                                  surface=fb.surface, created_at=fb.created_at, data=fb.model_dump(mode="json")))
            incidents.append(inc)
        s.flush()
        s.add_all(later)
        s.commit()
    return incidents


def bulk_feedback(store: Store, feedback: list[Feedback]) -> None:
    """Store many pieces of feedback in one transaction (as ``Store.add_feedback`` writes each)."""
    with store.session() as s:
        s.add_all([FeedbackRow(id=fb.id, incident_id=fb.incident_id, analysis_id=fb.analysis_id, service=fb.service,
                               kind=fb.kind, document_id=fb.document_id, vote=fb.vote.value, user=fb.user,
                               surface=fb.surface, created_at=fb.created_at, data=fb.model_dump(mode="json"))
                   for fb in feedback])
        s.commit()
