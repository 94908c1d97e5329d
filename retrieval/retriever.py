"""The retriever: ingest documents once, search them by meaning and by keywords, rank what responders trust.

```python
r = Retriever.from_settings(settings)     # Chroma embedded (default), Chroma HTTP, or memory
report = r.upsert(docs)                   # added / updated / skipped with reason; never duplicates
hits = r.search("db pool exhausted on checkout", k=5, filters=SearchFilters(type=DocumentType.INCIDENT))
```

The vector store holds embeddings and the documents; the BM25 index and the filter columns are kept
in memory, rebuilt from the store on first use and after each change.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bot.domain import (
    Document,
    DocumentType,
    Incident,
    InputError,
    Signal,
    stable_hash,
)
from retrieval.documents import split_runbook
from retrieval.embedder import Embedder, get_embedder
from retrieval.filters import FilterIndex, SearchFilters
from retrieval.keyword import KeywordIndex, shared_phrases, tokenize
from retrieval.query import query_for_incident, query_for_question
from retrieval.ranking import Feedbacks, apply_boosts, explain, fuse, merge_candidates
from retrieval.results import IngestReport, SearchHit
from retrieval.store import MemoryVectorStore, VectorStore

if TYPE_CHECKING:
    from config.settings import RetrievalSettings, Settings

logger = logging.getLogger(__name__)

EMBED_TEXT_CHARS = 1500
WRITE_BATCH = 512


def content_digest(doc: Document) -> str:
    """Hash of everything stored about a document (an unchanged re-import is skipped)."""
    return stable_hash(json.dumps(doc.model_dump(mode="json"), sort_keys=True, default=str))


def embedding_text(doc: Document) -> str:
    """What the embedder reads: title and heading path, then the text; the model keeps ~256 word pieces."""
    head = doc.title
    if doc.heading_path and doc.heading_path[-1] not in head:
        head = f"{head} - {' / '.join(doc.heading_path)}"
    parts = [head, doc.text]
    if doc.resolution:
        parts.append(f"Resolution: {doc.resolution}")
    return "\n".join(p for p in parts if p)[:EMBED_TEXT_CHARS]


def keyword_text(doc: Document) -> str:
    """What BM25 reads: every field a responder might type."""
    fields = [
        doc.title,
        " ".join(doc.heading_path),
        " ".join(doc.services),
        doc.category or "",
        " ".join(doc.kinds),
        doc.root_cause_service or "",
        doc.text,
        doc.resolution or "",
    ]
    return "\n".join(f for f in fields if f)


def document_for_incident(
    incident: Incident, *, summary: str = "", signals: Sequence[Signal] = ()
) -> Document | None:
    """The history document of a resolved Sherlog incident with a confirmed cause, else ``None``."""
    if incident.resolved_at is None and incident.status.value != "resolved":
        return None
    if not incident.confirmed_kind:
        return None
    from bot.domain import category_of

    body = summary or query_for_incident(incident, signals)
    cause = f"Root cause: {incident.confirmed_kind.replace('_', ' ')} in {incident.confirmed_service or 'unknown service'}."
    services = sorted({s for s in (incident.service, incident.confirmed_service) if s})
    return Document(
        id=incident.id,
        type=DocumentType.INCIDENT,
        title=incident.title or f"{incident.confirmed_kind} in {incident.confirmed_service}",
        text=f"{body}\n\n{cause}",
        url=incident.external_refs.get("url"),
        services=services,
        category=category_of(incident.confirmed_kind).value,
        kinds=[incident.confirmed_kind],
        root_cause_service=incident.confirmed_service,
        root_cause_kind=incident.confirmed_kind,
        resolution=incident.resolution,
        date=incident.started_at or incident.created_at,
        source="sherlog",
        metadata={"incident_id": incident.id},
    )



def embedder_for(conf: RetrievalSettings, *, model_dir: Path | None) -> Embedder:
    """The process-wide embedder the ``retrieval`` settings describe."""
    return get_embedder(
        conf.model,
        batch_size=conf.batch_size,
        threads=conf.embed_threads,
        max_tokens=conf.embed_max_tokens,
        precision=conf.embed_precision,
        backend=conf.embed_backend,
        model_dir=model_dir,
    )

class Retriever:
    """Hybrid dense + BM25 search over past incidents and runbook sections."""

    def __init__(
        self,
        *,
        store: VectorStore,
        settings: RetrievalSettings | None = None,
        embedder: Embedder | None = None,
        model_dir: Path | None = None,
    ) -> None:
        from config.settings import RetrievalSettings

        self.settings = settings or RetrievalSettings(backend="memory")
        self._store = store
        self._embedder = embedder
        self._model_dir = model_dir  # where an ONNX export of the embedder is cached (embed_backend: onnx)
        self._lock = threading.RLock()  # the in-memory catalogue and indexes
        self._write_lock = threading.Lock()  # one import or delete at a time
        self._docs: dict[str, Document] = {}
        self._hashes: dict[str, str] = {}
        self._loaded = False
        self._rows: list[str] = []
        self._keyword: KeywordIndex | None = None
        self._filters: FilterIndex | None = None
        self._service_names: set[str] | None = None
        # BM25 tokens by document id with the content hash they were made from: a rebuild after a
        # new document tokenises that document only (tokenising 50,000 documents took ~4 s of CPU)
        self._tokens: dict[str, tuple[str, tuple[str, ...]]] = {}
        # a change of the catalogue makes the indexes stale; a large catalogue rebuilds them in a
        # background thread while searches keep the previous ones (``background_rebuild_docs``)
        self._stale = False
        self._version = 0  # bumped by every change
        self._rebuilder: threading.Thread | None = None

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings) -> Retriever:
        """The retriever for ``settings.retrieval.backend``: embedded Chroma under ``data_dir``, Chroma
        server, or memory."""
        conf = settings.retrieval
        store: VectorStore
        if conf.backend == "memory":
            store = MemoryVectorStore()
        elif conf.backend == "http":
            from retrieval.chroma_store import ChromaVectorStore

            store = ChromaVectorStore.http(
                conf.chroma_host, conf.chroma_port, collection=conf.collection, ssl=conf.chroma_ssl
            )
        else:
            from retrieval.chroma_store import ChromaVectorStore

            path = conf.chroma_path or settings.data_dir / "chroma"
            store = ChromaVectorStore.persistent(path, collection=conf.collection)
        return cls(store=store, settings=conf, model_dir=settings.data_dir / "models")

    @staticmethod
    def index_known_empty(settings: Settings) -> bool:
        """True when the index ``from_settings`` would open certainly holds no document, found without opening
        it: a fresh memory store, or an embedded Chroma directory that is absent or empty. False means unknown."""
        conf = settings.retrieval
        if conf.backend == "memory":
            return True
        if conf.backend == "http":
            return False
        from retrieval.chroma_store import persistent_known_empty

        return persistent_known_empty(conf.chroma_path or settings.data_dir / "chroma")

    @classmethod
    def in_memory(cls, settings: RetrievalSettings | None = None, *, model_dir: Path | None = None) -> Retriever:
        """A retriever whose catalogue touches no disk (tests, an evidence bundle's own history), same ranking;
        ``model_dir`` is where the embedder's ONNX export is cached (``embed_backend: onnx``)."""
        return cls(store=MemoryVectorStore(), settings=settings, model_dir=model_dir)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            conf = self.settings
            self._embedder = embedder_for(conf, model_dir=self._model_dir)
            if self._model_dir is not None:
                self._embedder.use_disk_cache(self._model_dir)
        return self._embedder

    # ---- catalogue --------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            for doc, digest in self._store.load_all():
                self._docs[doc.id] = doc
                self._hashes[doc.id] = digest
            self._loaded = True
            self._keyword = None
            logger.info("retrieval catalogue loaded", extra={"documents": len(self._docs)})

    def _ensure_indexes(self) -> tuple[KeywordIndex, FilterIndex, list[str]]:
        self._ensure_loaded()
        with self._lock:
            if self._keyword is not None and self._filters is not None and self._stale and self._in_background():
                self._start_rebuild()  # serve the previous indexes meanwhile
            elif self._keyword is None or self._filters is None or self._stale:
                rows, docs, tokens = self._snapshot()
                self._install(rows, KeywordIndex.from_tokens(tokens), FilterIndex(docs))
            assert self._keyword is not None and self._filters is not None
            return self._keyword, self._filters, self._rows

    def _changed(self) -> None:
        """The catalogue changed (call under ``_lock``): the indexes are stale from now on."""
        self._version += 1
        self._stale = True
        self._service_names = None

    def _rebuild_soon(self) -> None:
        """After a write: a large catalogue starts rebuilding its indexes at once, in the background
        (not after every batch of an import: once, when the import is done)."""
        with self._lock:
            if self._stale and self._keyword is not None and self._in_background():
                self._start_rebuild()

    def _in_background(self) -> bool:
        limit = self.settings.background_rebuild_docs
        return 0 < limit <= len(self._docs)

    def _snapshot(self) -> tuple[list[str], list[Document], list[list[str]]]:
        """Rows, documents and BM25 tokens of the catalogue as it is (call under ``_lock``)."""
        rows = list(self._docs)
        docs = [self._docs[i] for i in rows]
        return rows, docs, [self._keyword_tokens(d) for d in docs]

    def _install(self, rows: list[str], keyword: KeywordIndex, filters: FilterIndex) -> None:
        """Make freshly built indexes the current ones (call under ``_lock``)."""
        self._rows, self._keyword, self._filters = rows, keyword, filters
        self._stale = False
        if len(self._tokens) > len(self._docs):  # forget deleted documents
            self._tokens = {i: t for i, t in self._tokens.items() if i in self._docs}

    def _start_rebuild(self) -> None:
        """Start the background rebuild unless one runs (call under ``_lock``)."""
        if self._rebuilder is not None and self._rebuilder.is_alive():
            return
        self._rebuilder = threading.Thread(target=self._rebuild, name="sherlog-index-rebuild", daemon=True)
        self._rebuilder.start()

    def _rebuild(self) -> None:
        """Rebuild the indexes outside the lock until they match the catalogue; a change during a
        build makes it start again from the newer catalogue. A failure is logged and leaves the
        previous indexes serving (the next search or change tries again)."""
        try:
            while True:
                with self._lock:
                    if not self._stale:
                        return
                    version = self._version
                    rows, docs, tokens = self._snapshot()
                keyword, filters = KeywordIndex.from_tokens(tokens), FilterIndex(docs)
                with self._lock:
                    if self._version == version:
                        self._install(rows, keyword, filters)
                        logger.info("retrieval indexes rebuilt", extra={"documents": len(rows)})
                        return
        except Exception:
            logger.exception("background rebuild of the retrieval indexes failed; the previous ones serve")

    def wait_for_index(self, timeout: float = 60.0) -> bool:
        """Block until the indexes include every change (a background rebuild has finished); False
        on timeout. Searches never need this: they use the previous indexes meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._keyword is None or not self._stale:
                    return True
                self._start_rebuild()
                worker = self._rebuilder
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            assert worker is not None
            worker.join(min(left, 0.5))

    def _keyword_tokens(self, doc: Document) -> list[str]:
        digest = self._hashes.get(doc.id, "")
        cached = self._tokens.get(doc.id)
        if cached is not None and cached[0] == digest and digest:
            return list(cached[1])
        tokens = tuple(sys.intern(t) for t in tokenize(keyword_text(doc)))
        self._tokens[doc.id] = (digest, tokens)
        return list(tokens)

    def _adopt(self, ids: list[str]) -> None:
        """Documents another process (an API replica, a worker) wrote to a shared store since this
        catalogue was loaded: read them; the keyword index includes them from the next search."""
        if not ids:
            return
        found = self._store.fetch(ids)
        with self._lock:
            for doc, digest in found:
                self._docs[doc.id] = doc
                self._hashes[doc.id] = digest
            if found:
                self._changed()

    def _services_named_in(self, text: str) -> set[str]:
        """Known service names that the query mentions as whole words."""
        lowered = f" {text.lower()} "
        with self._lock:
            if self._service_names is None:
                self._service_names = {s.lower() for d in self._docs.values() for s in d.services}
            names = self._service_names
        return {
            s for s in names if s in lowered and re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", lowered)
        }

    def count(self) -> int:
        self._ensure_loaded()
        return len(self._docs)

    def ping(self) -> None:
        """Raise ``RetrievalError`` when the store cannot be used (readiness check)."""
        self._store.ping()

    def get(self, doc_id: str) -> Document | None:
        self._ensure_loaded()
        return self._docs.get(doc_id)

    def documents(self) -> list[Document]:
        self._ensure_loaded()
        with self._lock:
            return list(self._docs.values())

    # ---- ingest -----------------------------------------------------------------------------

    def _expand(self, docs: Iterable[Document]) -> Iterable[Document]:
        for doc in docs:
            if doc.type is DocumentType.RUNBOOK and not doc.heading_path and "parent_id" not in doc.metadata:
                yield from split_runbook(doc)
            else:
                yield doc

    def upsert(
        self,
        docs: Iterable[Document],
        *,
        progress: Callable[[int], None] | None = None,
        vectors: Mapping[str, npt.NDArray[np.float32]] | None = None,
    ) -> IngestReport:
        """Add new documents, update changed ones, skip unchanged ones; never duplicates.

        Whole runbooks are split into sections; sections of a re-imported runbook that no longer
        exist are removed. ``progress`` is called with the number of documents handled so far.
        ``vectors`` holds precomputed unit embeddings by document id (from a batch worker); the
        documents without one are embedded here.
        """
        self._ensure_loaded()
        with self._write_lock:
            report = self._upsert(docs, progress=progress, vectors=vectors)
        self._rebuild_soon()
        return report

    def _upsert(
        self,
        docs: Iterable[Document],
        *,
        progress: Callable[[int], None] | None,
        vectors: Mapping[str, npt.NDArray[np.float32]] | None,
    ) -> IngestReport:
        report = IngestReport()
        pending: dict[str, tuple[Document, str]] = {}
        parents: dict[str, set[str]] = {}
        for doc in self._expand(docs):
            if not doc.id.strip():
                report.skip("(no id)", "no id")
                continue
            if not (doc.text.strip() or doc.title.strip()):
                report.skip(doc.id, "empty text")
                continue
            if doc.id in pending:
                report.skip(doc.id, "duplicate id in this import")
                continue
            parent = doc.metadata.get("parent_id")
            if parent:
                parents.setdefault(str(parent), set()).add(doc.id)
            digest = content_digest(doc)
            if self._hashes.get(doc.id) == digest:
                report.skip(doc.id, "unchanged")
                continue
            pending[doc.id] = (doc, digest)
        stale = [
            doc_id
            for doc_id, doc in (self._docs.items() if parents else ())
            if str(doc.metadata.get("parent_id", "")) in parents
            and doc_id not in parents[str(doc.metadata["parent_id"])]
        ]
        items = list(pending.values())
        done = len(report.skipped)
        if progress:
            progress(done)
        for start in range(0, len(items), WRITE_BATCH):
            chunk = items[start : start + WRITE_BATCH]
            given = vectors or {}
            missing = [d for d, _ in chunk if d.id not in given]
            encoded = dict(
                zip(
                    [d.id for d in missing],
                    self.embedder.encode([embedding_text(d) for d in missing]),
                    strict=True,
                )
            )
            matrix = np.stack([given[d.id] if d.id in given else encoded[d.id] for d, _ in chunk]).astype(
                np.float32
            )
            self._store.upsert([d for d, _ in chunk], [h for _, h in chunk], matrix)
            with self._lock:
                for doc, digest in chunk:
                    (report.updated if doc.id in self._docs else report.added).append(doc.id)
                    self._docs[doc.id] = doc
                    self._hashes[doc.id] = digest
                self._changed()
            done += len(chunk)
            if progress:
                progress(done)
        if stale:
            self._delete(stale)
            report.removed += stale
        logger.info(
            "documents ingested",
            extra={
                "added": len(report.added),
                "updated": len(report.updated),
                "skipped": len(report.skipped),
            },
        )
        return report

    def delete(self, ids: Sequence[str]) -> int:
        """Remove documents by id; returns how many were present."""
        self._ensure_loaded()
        with self._write_lock:
            removed = self._delete(ids)
        self._rebuild_soon()
        return removed

    def _delete(self, ids: Sequence[str]) -> int:
        present = [i for i in ids if i in self._docs]
        if not present:
            return 0
        self._store.delete(present)
        with self._lock:
            for doc_id in present:
                self._docs.pop(doc_id, None)
                self._hashes.pop(doc_id, None)
            self._changed()
        return len(present)

    def index_resolved_incident(
        self, incident: Incident, *, summary: str = "", signals: Sequence[Signal] = ()
    ) -> IngestReport:
        """Index a resolved Sherlog incident with a confirmed cause (no-op report otherwise)."""
        doc = document_for_incident(incident, summary=summary, signals=signals)
        if doc is None:
            report = IngestReport()
            report.skip(incident.id, "not resolved with a confirmed cause")
            return report
        return self.upsert([doc])

    # ---- search -----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        feedback: Feedbacks | None = None,
        *,
        now: datetime | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best documents for ``query``, best first."""
        if k <= 0:
            raise InputError("k must be a positive number of results")
        text = query.strip()
        if not text:
            return []
        keyword, filter_index, rows = self._ensure_indexes()
        if not rows:
            return []
        conf = self.settings
        pool = max(conf.candidates, 4 * k)
        dense = self._store.query(self.embedder.encode_query(text), k=pool, filters=filters)
        self._adopt([i for i, _ in dense if i not in self._docs])
        mask = filter_index.mask(filters)
        kw = [(rows[r], s) for r, s in keyword.query(text, k=pool, mask=mask)]
        candidates = merge_candidates(dense, kw)
        docs = {i: self._docs[i] for i in candidates if i in self._docs}
        candidates = {i: c for i, c in candidates.items() if i in docs}
        fuse(
            candidates,
            method=conf.fusion,
            dense_weight=conf.dense_weight,
            bm25_weight=conf.bm25_weight,
            rrf_k=conf.rrf_k,
            bm25_reference=keyword.reference_score(text),
        )
        moment = now or datetime.now(UTC)
        query_services = self._services_named_in(text)
        apply_boosts(
            candidates,
            docs,
            feedback=feedback,
            feedback_weight=conf.feedback_weight,
            recency_weight=conf.recency_weight,
            recency_half_life_days=conf.recency_half_life_days,
            now=moment,
            query_services=query_services,
            service_weight=conf.service_weight,
        )
        ranked = sorted(candidates.values(), key=lambda c: (-c.score, -c.fused, c.doc_id))[:k]
        hits: list[SearchHit] = []
        for rank, cand in enumerate(ranked, start=1):
            doc = docs[cand.doc_id]
            why = explain(
                cand,
                doc,
                shared=shared_phrases(text, keyword_text(doc), keyword),
                query_services=query_services,
                now=moment,
            )
            hits.append(
                SearchHit(
                    document=doc, score=cand.score, dense=cand.dense, bm25=cand.bm25, why=why, rank=rank
                )
            )
        return hits

    def search_incident(
        self,
        incident: Incident,
        signals: Sequence[Signal] = (),
        *,
        k: int = 5,
        type: DocumentType | None = None,  # noqa: A002 - matches SearchFilters
        feedback: Feedbacks | None = None,
    ) -> list[SearchHit]:
        """Similar past incidents (``type=INCIDENT``) or runbook sections for an open incident."""
        hits = self.search(
            self.query_for_incident(incident, signals),
            k=k + 1,
            filters=SearchFilters(type=type),
            feedback=feedback,
        )
        return [h for h in hits if h.document.id != incident.id][:k]

    def query_for_incident(self, incident: Incident, signals: Sequence[Signal] = ()) -> str:
        return query_for_incident(incident, signals)

    def query_for_question(self, text: str) -> str:
        return query_for_question(text)

    # ---- async wrappers for the event loop ----------------------------------------------------

    async def asearch(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        feedback: Feedbacks | None = None,
    ) -> list[SearchHit]:
        return await asyncio.to_thread(self.search, query, k, filters, feedback)

    async def aupsert(self, docs: Iterable[Document]) -> IngestReport:
        return await asyncio.to_thread(self.upsert, list(docs))

    async def aping(self) -> None:
        await asyncio.to_thread(self.ping)

    def close(self) -> None:
        """Let a running background rebuild finish (a few seconds at most); the stores hold nothing
        to release."""
        worker = self._rebuilder
        if worker is not None:
            worker.join(10.0)
