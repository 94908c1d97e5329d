"""Chroma behind the ``VectorStore`` seam: embedded persistent client, or a Chroma server over HTTP.

Each record keeps the whole document as JSON in its metadata (so the keyword index can be rebuilt
from the store alone), its content hash, and flat filter fields: ``type``, ``category``, ``date_ts``
(epoch seconds, -1 when unknown) and one boolean ``svc:<name>`` / ``kind:<name>`` per service and kind,
because Chroma metadata values are scalars.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.domain import Document, RetrievalError
from retrieval.filters import SearchFilters
from retrieval.store import Vector

logger = logging.getLogger(__name__)

_PAGE = 2000


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def persistent_known_empty(path: str | Path) -> bool:
    """True when the embedded Chroma directory ``path`` certainly holds no record, found without loading Chroma
    (its imports take most of a second): the folder is absent, or its database's tables of records and of
    pending writes are both empty. Anything else (records, another layout, an unreadable file) is False:
    open the store to know."""
    folder = Path(path)
    if not folder.exists():
        return True
    database = folder / "chroma.sqlite3"
    if not database.is_file():
        return False
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            row = connection.execute("SELECT EXISTS (SELECT 1 FROM embeddings) "
                                     "OR EXISTS (SELECT 1 FROM embeddings_queue)").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == 0


def _metadata(doc: Document, digest: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc": doc.model_dump_json(),
        "hash": digest,
        "type": doc.type.value,
        "category": doc.category or "",
        "date_ts": doc.date.timestamp() if doc.date else -1.0,
    }
    for service in doc.services:
        meta[f"svc:{service}"] = True
    for kind in doc.kinds:
        meta[f"kind:{kind}"] = True
    return meta


def where_clause(filters: SearchFilters | None) -> dict[str, Any] | None:
    """A Chroma ``where`` filter equivalent to ``filters`` (``None`` when nothing is filtered)."""
    if filters is None or filters.empty:
        return None
    parts: list[dict[str, Any]] = []
    if filters.type is not None:
        parts.append({"type": filters.type.value})
    if filters.category is not None:
        parts.append({"category": filters.category})
    for prefix, names in (("svc", filters.services), ("kind", filters.kinds)):
        if names:
            options: list[dict[str, Any]] = [{f"{prefix}:{n}": True} for n in names]
            parts.append(options[0] if len(options) == 1 else {"$or": options})
    if filters.since is not None:
        parts.append({"date_ts": {"$gte": filters.since.timestamp()}})
    if filters.until is not None:
        parts.append({"date_ts": {"$lte": filters.until.timestamp()}})
        parts.append({"date_ts": {"$gte": 0}})
    return parts[0] if len(parts) == 1 else {"$and": parts}


class ChromaVectorStore:
    """One Chroma collection with cosine distance."""

    def __init__(self, client: Any, *, collection: str, where: str) -> None:
        self._client = client
        self._where = where
        try:
            self._collection = client.get_or_create_collection(
                name=collection,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as e:
            raise RetrievalError(f"cannot open Chroma collection {collection!r} at {where}: {e}") from e

    @classmethod
    def persistent(cls, path: str | Path, *, collection: str) -> ChromaVectorStore:
        import chromadb

        Path(path).mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        except Exception as e:
            raise RetrievalError(f"cannot open the Chroma directory {path}: {e}") from e
        return cls(client, collection=collection, where=str(path))

    @classmethod
    def http(cls, host: str, port: int, *, collection: str, ssl: bool = False) -> ChromaVectorStore:
        import chromadb

        where = f"{'https' if ssl else 'http'}://{host}:{port}"
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_chroma_settings())
        except Exception as e:
            raise RetrievalError(
                f"cannot reach the Chroma server at {where}: {e} (check retrieval.chroma_host/chroma_port)"
            ) from e
        return cls(client, collection=collection, where=where)

    def _max_batch(self) -> int:
        try:
            return max(1, min(int(self._client.get_max_batch_size()), 5000))
        except Exception:
            return 1000

    def upsert(self, docs: Sequence[Document], hashes: Sequence[str], vectors: Vector) -> None:
        step = self._max_batch()
        try:
            for start in range(0, len(docs), step):
                chunk = docs[start : start + step]
                self._collection.upsert(
                    ids=[d.id for d in chunk],
                    embeddings=vectors[start : start + step],
                    metadatas=[
                        _metadata(d, h) for d, h in zip(chunk, hashes[start : start + step], strict=True)
                    ],
                    documents=[f"{d.title}\n{d.text}" for d in chunk],
                )
        except Exception as e:
            raise RetrievalError(
                f"Chroma at {self._where} refused a write of {len(docs)} documents: {e}"
            ) from e

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            self._collection.delete(ids=list(ids))
        except Exception as e:
            raise RetrievalError(f"Chroma at {self._where} refused to delete documents: {e}") from e

    def load_all(self) -> Iterator[tuple[Document, str]]:
        offset = 0
        while True:
            try:
                page = self._collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            except Exception as e:
                raise RetrievalError(f"cannot read documents from Chroma at {self._where}: {e}") from e
            metas = page.get("metadatas") or []
            for meta in metas:
                if meta and "doc" in meta:
                    yield Document.model_validate_json(str(meta["doc"])), str(meta.get("hash", ""))
            if len(metas) < _PAGE:
                return
            offset += _PAGE

    def fetch(self, ids: Sequence[str]) -> list[tuple[Document, str]]:
        if not ids:
            return []
        try:
            page = self._collection.get(ids=list(ids), include=["metadatas"])
        except Exception as e:
            raise RetrievalError(f"cannot read documents from Chroma at {self._where}: {e}") from e
        return [
            (Document.model_validate_json(str(meta["doc"])), str(meta.get("hash", "")))
            for meta in page.get("metadatas") or []
            if meta and "doc" in meta
        ]

    def query(self, vector: Vector, *, k: int, filters: SearchFilters | None) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        try:
            result = self._collection.query(
                query_embeddings=[vector.tolist()],
                n_results=k,
                where=where_clause(filters),
                include=["distances"],
            )
        except Exception as e:
            raise RetrievalError(f"Chroma query failed at {self._where}: {e}") from e
        ids = (result.get("ids") or [[]])[0]
        distances = (result.get("distances") or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def count(self) -> int:
        try:
            return int(self._collection.count())
        except Exception as e:
            raise RetrievalError(f"Chroma at {self._where} is not usable: {e}") from e

    def ping(self) -> None:
        try:
            self._client.heartbeat()
            self._collection.count()
        except Exception as e:
            raise RetrievalError(f"Chroma at {self._where} is not usable: {e}") from e
