"""What retrieval hands back: search hits and ingest reports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.domain import Document, SimilarIncident


@dataclass(frozen=True)
class SearchHit:
    """One result. ``score`` is the fused, boosted score in 0..1; ``dense`` the cosine similarity
    (0 when the document only matched by keywords); ``bm25`` the raw BM25 score (0 when it only
    matched by meaning); ``why`` a short human explanation."""

    document: Document
    score: float
    dense: float
    bm25: float
    why: str
    rank: int = 0

    def as_similar_incident(self) -> SimilarIncident:
        doc = self.document
        return SimilarIncident(
            id=doc.id,
            title=doc.title,
            score=round(self.score, 4),
            resolution=doc.resolution,
            url=doc.url,
            root_cause_service=doc.root_cause_service,
            root_cause_kind=doc.root_cause_kind,
            why=self.why,
        )


@dataclass(frozen=True)
class SkippedDocument:
    id: str
    reason: str


@dataclass
class IngestReport:
    """What an import did: ids added, updated (content changed), removed (runbook sections that
    disappeared), and skipped with a reason (unchanged, empty, duplicate in the same import...)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedDocument] = field(default_factory=list)

    def skip(self, doc_id: str, reason: str) -> None:
        self.skipped.append(SkippedDocument(doc_id, reason))

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(s.reason for s in self.skipped))

    @property
    def total(self) -> int:
        return len(self.added) + len(self.updated) + len(self.skipped)

    def merge(self, other: IngestReport) -> IngestReport:
        self.added += other.added
        self.updated += other.updated
        self.removed += other.removed
        self.skipped += other.skipped
        return self

    def summary(self) -> str:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.skipped_by_reason.items()))
        text = f"{len(self.added)} added, {len(self.updated)} updated, {len(self.skipped)} skipped"
        if reasons:
            text += f" ({reasons})"
        if self.removed:
            text += f", {len(self.removed)} stale sections removed"
        return text
