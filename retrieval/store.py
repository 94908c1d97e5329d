"""The vector store seam and its in-memory implementation.

A ``VectorStore`` keeps, per document id, the document itself, its content hash and its unit
embedding, and answers nearest-neighbour queries under metadata filters. Implementations:
``MemoryVectorStore`` (numpy, for tests and evidence bundles) and ``ChromaVectorStore``
(``retrieval.chroma_store``: embedded persistent or HTTP client).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.domain import Document
from retrieval.filters import FilterIndex, SearchFilters

Vector = npt.NDArray[np.float32]


class VectorStore(Protocol):
    def upsert(self, docs: Sequence[Document], hashes: Sequence[str], vectors: Vector) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def load_all(self) -> Iterator[tuple[Document, str]]:
        """Every stored document with its content hash (used to rebuild the keyword index)."""
        ...

    def fetch(self, ids: Sequence[str]) -> list[tuple[Document, str]]:
        """The stored documents (with content hash) among ``ids``."""
        ...

    def query(self, vector: Vector, *, k: int, filters: SearchFilters | None) -> list[tuple[str, float]]:
        """Up to ``k`` ``(id, cosine similarity)`` pairs, best first."""
        ...

    def count(self) -> int: ...

    def ping(self) -> None:
        """Raise ``RetrievalError`` when the store cannot be used."""
        ...


class MemoryVectorStore:
    """Exact cosine search over a numpy matrix; nothing touches the disk."""

    def __init__(self, dimension: int = 384) -> None:
        self._dimension = dimension
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._docs: list[Document] = []
        self._hashes: list[str] = []
        self._matrix: Vector = np.zeros((0, dimension), dtype=np.float32)
        self._filter_index: FilterIndex | None = None

    def _grow(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        new = np.zeros((max(needed, capacity * 2, 64), self._dimension), dtype=np.float32)
        new[: len(self._ids)] = self._matrix[: len(self._ids)]
        self._matrix = new

    def upsert(self, docs: Sequence[Document], hashes: Sequence[str], vectors: Vector) -> None:
        with self._lock:
            self._grow(len(self._ids) + len(docs))
            for doc, digest, vector in zip(docs, hashes, vectors, strict=True):
                row = self._rows.get(doc.id)
                if row is None:
                    row = len(self._ids)
                    self._rows[doc.id] = row
                    self._ids.append(doc.id)
                    self._docs.append(doc)
                    self._hashes.append(digest)
                else:
                    self._docs[row] = doc
                    self._hashes[row] = digest
                self._matrix[row] = vector
            self._filter_index = None

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            for doc_id in ids:
                row = self._rows.pop(doc_id, None)
                if row is None:
                    continue
                last = len(self._ids) - 1
                if row != last:  # move the last row into the hole
                    self._ids[row] = self._ids[last]
                    self._docs[row] = self._docs[last]
                    self._hashes[row] = self._hashes[last]
                    self._matrix[row] = self._matrix[last]
                    self._rows[self._ids[row]] = row
                self._ids.pop()
                self._docs.pop()
                self._hashes.pop()
            self._filter_index = None

    def load_all(self) -> Iterator[tuple[Document, str]]:
        with self._lock:
            items = list(zip(self._docs, self._hashes, strict=True))
        yield from items

    def fetch(self, ids: Sequence[str]) -> list[tuple[Document, str]]:
        with self._lock:
            rows = [self._rows[i] for i in ids if i in self._rows]
            return [(self._docs[r], self._hashes[r]) for r in rows]

    def query(self, vector: Vector, *, k: int, filters: SearchFilters | None) -> list[tuple[str, float]]:
        with self._lock:
            n = len(self._ids)
            if n == 0 or k <= 0:
                return []
            if self._filter_index is None or self._filter_index.size != n:
                self._filter_index = FilterIndex(self._docs)
            scores = self._matrix[:n] @ vector.astype(np.float32)
            mask = self._filter_index.mask(filters)
            if mask is not None:
                scores = np.where(mask, scores, -np.inf)
                k = min(k, int(mask.sum()))
                if k == 0:
                    return []
            k = min(k, n)
            top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.argsort(-scores[top], kind="stable")]
            return [(self._ids[i], float(scores[i])) for i in top]

    def count(self) -> int:
        return len(self._ids)

    def ping(self) -> None:
        return None
