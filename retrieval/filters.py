"""Search filters (kind of document, services, category, kinds, time range) and their fast evaluation.

``FilterIndex`` keeps one column per filterable field so that a filter over 50,000 documents is a
few numpy operations, not a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from bot.domain import Document, DocumentType


@dataclass(frozen=True)
class SearchFilters:
    """Metadata filters; every given field must match (services and kinds: any of them)."""

    type: DocumentType | None = None
    services: Sequence[str] = field(default_factory=tuple)
    category: str | None = None
    kinds: Sequence[str] = field(default_factory=tuple)
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.type or self.services or self.category or self.kinds or self.since or self.until)

    def matches(self, doc: Document) -> bool:
        if self.type is not None and doc.type != self.type:
            return False
        if self.services and not set(self.services) & set(doc.services):
            return False
        if self.category is not None and doc.category != self.category:
            return False
        if self.kinds and not set(self.kinds) & set(doc.kinds):
            return False
        if self.since is not None and (doc.date is None or doc.date < self.since):
            return False
        return not (self.until is not None and (doc.date is None or doc.date > self.until))


class FilterIndex:
    """Columns of the filterable fields of documents in row order."""

    def __init__(self, docs: Sequence[Document]) -> None:
        n = len(docs)
        self.size = n
        self._types = np.array([d.type.value for d in docs], dtype=object)
        self._categories = np.array([d.category or "" for d in docs], dtype=object)
        self._dates = np.array([d.date.timestamp() if d.date else np.nan for d in docs], dtype=np.float64)
        self._services: dict[str, list[int]] = {}
        self._kinds: dict[str, list[int]] = {}
        for row, doc in enumerate(docs):
            for service in doc.services:
                self._services.setdefault(service, []).append(row)
            for kind in doc.kinds:
                self._kinds.setdefault(kind, []).append(row)

    def _any_of(self, table: dict[str, list[int]], names: Sequence[str]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.size, dtype=bool)
        for name in names:
            rows = table.get(name)
            if rows:
                mask[rows] = True
        return mask

    def mask(self, filters: SearchFilters | None) -> npt.NDArray[np.bool_] | None:
        """Rows that pass, or ``None`` when nothing is filtered."""
        if filters is None or filters.empty:
            return None
        mask = np.ones(self.size, dtype=bool)
        if filters.type is not None:
            mask &= self._types == filters.type.value
        if filters.category is not None:
            mask &= self._categories == filters.category
        if filters.services:
            mask &= self._any_of(self._services, filters.services)
        if filters.kinds:
            mask &= self._any_of(self._kinds, filters.kinds)
        with np.errstate(invalid="ignore"):
            if filters.since is not None:
                mask &= self._dates >= filters.since.timestamp()
            if filters.until is not None:
                mask &= self._dates <= filters.until.timestamp()
        return mask
