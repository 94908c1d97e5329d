"""Labelled ranker inputs from evidence bundles (simulated or exported), for training and benchmarks.

A ``LabelledCase`` is what ``rank`` receives for one bundle (context, signals, similar incidents,
runbook matches) plus its ``truth.json``. Gathering runs the real detectors and bundle-local retrieval
through the pipeline once; the result is cached as JSON lines next to the data.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain import (
    Document,
    GroundTruth,
    IncidentContext,
    MetricSeries,
    Signal,
    SignalSource,
    SimilarIncident,
)

log = logging.getLogger(__name__)

CACHE_VERSION = 2


@functools.cache
def _inputs_fingerprint() -> str:
    """A digest of the code that produces cached inputs (detectors, bundle loading, retrieval).

    Cached cases are reused only when the detectors that made them are unchanged, so a detector fix
    is never silently measured on stale signals.
    """
    import hashlib

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256(str(CACHE_VERSION).encode())
    paths = [*sorted((root / "detectors").rglob("*.py")), *sorted((root / "retrieval").rglob("*.py")),
             root / "bot" / "pipeline" / "bundle.py"]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return f"{CACHE_VERSION}:{digest.hexdigest()[:16]}"


@dataclass
class LabelledCase:
    name: str
    context: IncidentContext
    signals: list[Signal]
    similar: list[SimilarIncident]
    runbooks: list[tuple[Document, float]]
    truth: GroundTruth

    def to_json(self) -> str:
        return json.dumps({
            "v": _inputs_fingerprint(),
            "name": self.name,
            "context": self.context.model_dump(mode="json"),
            "signals": [s.model_dump(mode="json") for s in self.signals],
            "similar": [s.model_dump(mode="json") for s in self.similar],
            "runbooks": [[d.model_dump(mode="json"), score] for d, score in self.runbooks],
            "truth": self.truth.model_dump(mode="json"),
        })

    @classmethod
    def from_json(cls, line: str) -> LabelledCase:
        data: dict[str, Any] = json.loads(line)
        return cls(
            name=data["name"],
            context=IncidentContext.model_validate(data["context"]),
            signals=[Signal.model_validate(s) for s in data["signals"]],
            similar=[SimilarIncident.model_validate(s) for s in data["similar"]],
            runbooks=[(Document.model_validate(d), float(score)) for d, score in data["runbooks"]],
            truth=GroundTruth.model_validate(data["truth"]),
        )


def _light(context: IncidentContext) -> IncidentContext:
    """The context without raw log lines and metric values (features only need who and when)."""
    return context.model_copy(update={
        "logs": {svc: [] for svc in context.logs},
        "metrics": [MetricSeries(service=m.service, metric=m.metric, labels=m.labels) for m in context.metrics],
        "history": [],
    })


class CachingEmbedder:
    """Wraps the shared embedder with a text -> vector cache: simulated histories repeat many texts."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self._cache: dict[str, Any] = {}

    def encode(self, texts: list[str], *, batch_size: int | None = None) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._inner.encode(missing, batch_size=batch_size), strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def encode_query(self, text: str) -> Any:
        return self.encode([text])[0]


class Gatherer:
    """Detectors and bundle-local retrieval, as the pipeline runs them, for one bundle at a time."""

    def __init__(self, *, top_k: int = 5) -> None:
        from retrieval.embedder import get_embedder

        self.top_k = top_k
        self.embedder = CachingEmbedder(get_embedder())

    def _retrieve(self, context: IncidentContext, signals: list[Signal]
                  ) -> tuple[list[SimilarIncident], list[tuple[Document, float]]]:
        from bot.domain import DocumentType
        from retrieval import Retriever, SearchFilters
        from retrieval.store import MemoryVectorStore

        if not context.history:
            return [], []
        local = Retriever(store=MemoryVectorStore(), embedder=self.embedder)  # type: ignore[arg-type]
        local.upsert(context.history)
        query = local.query_for_incident(context.incident, signals)
        inc_hits = local.search(query, k=self.top_k, filters=SearchFilters(type=DocumentType.INCIDENT))
        rb_hits = local.search(query, k=self.top_k, filters=SearchFilters(type=DocumentType.RUNBOOK))
        similar = [
            SimilarIncident(id=h.document.id, title=h.document.title, score=round(float(h.score), 4),
                            resolution=h.document.resolution, url=h.document.url,
                            root_cause_service=h.document.root_cause_service,
                            root_cause_kind=h.document.root_cause_kind, why=h.why)
            for h in inc_hits if h.document.id != context.incident.id
        ]
        return similar, [(h.document, float(h.score)) for h in rb_hits]

    def gather(self, path: Path) -> LabelledCase | None:
        """The ranker's inputs for one bundle; None when it has no truth.json."""
        from bot.pipeline.bundle import load_bundle
        from detectors.registry import load_detectors

        context, report = load_bundle(path)
        if report.truth is None:
            return None
        signals = [*alert_signals(context)]
        for name, detector in load_detectors():  # every detector an analysis runs, as Pipeline.gather does
            try:
                signals.extend(detector(context))
            except Exception:  # noqa: BLE001 - as in an analysis: one failing detector is left out
                log.exception("detector failed while gathering ranker inputs", extra={"detector": name})
        similar, runbooks = self._retrieve(context, signals)
        return LabelledCase(name=path.name, context=_light(context), signals=signals, similar=similar,
                            runbooks=runbooks, truth=report.truth)


def alert_signals(context: IncidentContext) -> list[Signal]:
    """The alerts as signals, the way the pipeline presents them to the ranker."""
    from bot.domain import Evidence, EvidenceType

    out = []
    for i, alert in enumerate(context.incident.alerts[:20]):
        text = " ".join(x for x in (alert.name, alert.summary, alert.description) if x)
        out.append(Signal(
            source=SignalSource.ALERT, detector="alert", service=alert.service, title=text[:200] or "alert", score=0.5,
            started_at=alert.starts_at,
            evidence=[Evidence(id=f"alert:{i}", type=EvidenceType.ALERT, summary=text[:300], service=alert.service,
                               ts=alert.starts_at, url=alert.generator_url)],
        ))
    return out


def bundle_dirs(root: Path) -> list[Path]:
    if (root / "alert.json").is_file():
        return [root]
    return sorted(p.parent for p in root.rglob("alert.json"))


def load_cases(root: str | Path, *, use_cache: bool = True, limit: int | None = None) -> list[LabelledCase]:
    """Labelled cases of every bundle under ``root`` (cached in ``root/.reasoning-cache.jsonl``)."""
    return list(iter_cases(root, use_cache=use_cache, limit=limit))


def iter_cases(root: str | Path, *, use_cache: bool = True, limit: int | None = None) -> Iterator[LabelledCase]:
    base = Path(root)
    items = [(str(path.relative_to(base)) if path != base else path.name, path)
             for path in bundle_dirs(base)[: limit or None]]
    yield from _gather_cached(items, base / ".reasoning-cache.jsonl" if use_cache else None)


def load_bundles(paths: list[Path], *, cache: Path | None = None) -> list[LabelledCase]:
    """Labelled cases of the given bundle folders, each named by its resolved path (cached in ``cache``, a
    JSON-lines file, when given; it is written nowhere else, so a folder that is part of the repository, like
    the field casebook, is left as it is). A bundle without truth.json is left out."""
    return list(_gather_cached([(str(path.resolve()), path) for path in paths], cache))


def _gather_cached(items: list[tuple[str, Path]], cache_path: Path | None) -> Iterator[LabelledCase]:
    cached: dict[str, str] = {}
    version = _inputs_fingerprint()
    if cache_path is not None and cache_path.is_file():
        for line in cache_path.read_text(encoding="utf-8").splitlines():
            try:
                head = json.loads(line)
            except json.JSONDecodeError:
                continue
            if head.get("v") == version:
                cached[head["name"]] = line
        if len(cached) < sum(1 for line in cache_path.read_text(encoding="utf-8").splitlines() if line.strip()):
            log.info("dropping cached ranker inputs made by other detector code")
            cache_path.write_text("".join(line + "\n" for line in cached.values()), encoding="utf-8")
    gatherer: Gatherer | None = None
    for key, path in items:
        if key in cached:
            yield LabelledCase.from_json(cached[key])
            continue
        gatherer = gatherer or Gatherer()
        case = gatherer.gather(path)
        if case is None:
            continue
        case.name = key
        if cache_path is not None:
            with cache_path.open("a", encoding="utf-8") as fh:
                fh.write(case.to_json() + "\n")
        yield case


def bundle_split(path: Path) -> str:
    """The ``split`` a bundle's truth.json names (the field casebook's ``dev`` or ``test``); "" when it names
    none or cannot be read. Nothing else of the file is looked at."""
    try:
        raw = json.loads((path / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(raw.get("split") or "") if isinstance(raw, dict) else ""
