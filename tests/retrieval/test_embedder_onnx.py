"""The ONNX Runtime backend of the embedder: same vectors as torch, one export cached and reused,
a corrupt cached file exported again, bad combinations refused."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from bot.domain import RetrievalError
from retrieval import embedder as embedder_module
from retrieval.embedder import get_embedder

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

TEXTS = [
    "disk full",
    "checkout cannot get a database connection: the pool is exhausted after the deploy of version 4.2 "
    "and every request waits for thirty seconds before it fails with a timeout",
    "dns lookups fail inside the cluster",
    "kafka consumer lag grows on the orders topic while the consumer group rebalances again and again " * 12,
]


@pytest.fixture()
def fresh_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test loads its own ONNX embedder (the process-wide one would hide a second export)."""
    for key in [k for k in embedder_module._embedders if k[3] == "onnx"]:
        monkeypatch.delitem(embedder_module._embedders, key)


def _onnx_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.onnx"))


def test_onnx_vectors_agree_with_torch(tmp_path: Path, fresh_onnx: None) -> None:
    onnx = get_embedder(backend="onnx", model_dir=tmp_path)
    onnx.onnx_batch_limit = 64  # padded batches through ONNX Runtime too (by default only single texts)
    reference = get_embedder()
    assert onnx.backend == "onnx" and reference.backend == "torch" and reference is not onnx
    torch_vectors = reference._encode_uncached(TEXTS, batch_size=2)
    onnx_vectors = onnx._encode_uncached(TEXTS, batch_size=2)  # sorted by length, padded batches
    cosines = (torch_vectors * onnx_vectors).sum(axis=1)
    assert cosines.min() > 0.9999
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    single = onnx._encode_uncached([TEXTS[0]])[0]  # no padding: the same row as in a padded batch
    np.testing.assert_allclose(single, onnx_vectors[0], atol=1e-5)
    onnx.onnx_batch_limit = 1
    np.testing.assert_allclose(onnx._encode_uncached(TEXTS), torch_vectors, atol=1e-6)  # batches on torch
    assert onnx.signature == get_embedder().signature  # an index built on torch is queried on onnx


def test_cached_export_is_reused_and_a_corrupt_one_replaced(tmp_path: Path, fresh_onnx: None) -> None:
    first = get_embedder(backend="onnx", model_dir=tmp_path)
    files = _onnx_files(tmp_path)
    assert len(files) == 1 and "opset" in files[0].name
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file of the atomic write is gone
    expected = first._encode_uncached(TEXTS[:2])
    mtime = files[0].stat().st_mtime_ns

    embedder_module._embedders.pop(("all-MiniLM-L6-v2", "float32", None, "onnx"))
    second = get_embedder(backend="onnx", model_dir=tmp_path)
    assert second is not first and second.backend == "onnx"
    assert files[0].stat().st_mtime_ns == mtime  # loaded from the cache, not exported again
    np.testing.assert_allclose(second._encode_uncached(TEXTS[:2]), expected, atol=1e-6)

    files[0].write_bytes(b"not an onnx model")
    embedder_module._embedders.pop(("all-MiniLM-L6-v2", "float32", None, "onnx"))
    third = get_embedder(backend="onnx", model_dir=tmp_path)
    assert third.backend == "onnx"
    assert files[0].stat().st_size > 1_000_000  # exported again over the corrupt file
    np.testing.assert_allclose(third._encode_uncached(TEXTS[:2]), expected, atol=1e-6)


def test_export_failure_falls_back_to_torch_with_a_warning(
    tmp_path: Path, fresh_onnx: None, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "models"
    blocker.write_text("a file where the model folder should be")  # the export cannot write there
    with caplog.at_level(logging.WARNING, logger="retrieval.embedder"):
        embedder = get_embedder(backend="onnx", model_dir=blocker)
    assert embedder.backend == "torch"
    assert any("ONNX Runtime backend unavailable" in r.getMessage() for r in caplog.records)
    np.testing.assert_allclose(
        embedder._encode_uncached(TEXTS[:2]), get_embedder()._encode_uncached(TEXTS[:2]), atol=1e-6
    )


def test_bad_backend_combinations_are_refused() -> None:
    with pytest.raises(RetrievalError, match="float32 only"):
        get_embedder(backend="onnx", precision="int8")
    with pytest.raises(RetrievalError, match="embed_backend"):
        get_embedder(backend="tensorrt")  # type: ignore[arg-type]


_LITE_SCRIPT = """
import json, sys
import numpy as np
from pathlib import Path
from retrieval.embedder import get_embedder
folder = Path(sys.argv[1])
e = get_embedder(backend="onnx", model_dir=folder)
e.use_disk_cache(folder)
texts = json.loads(sys.argv[2])
vectors = e.encode(texts)
print(json.dumps({"torch": "torch" in sys.modules, "st": "sentence_transformers" in sys.modules,
                  "encoded": e.encoded, "vectors": vectors.tolist()}))
"""


def _run_lite(folder: Path) -> dict[str, object]:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _LITE_SCRIPT, str(folder), json.dumps(TEXTS)], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.timeout(600)  # a fresh interpreter, bounded at 300 s
def test_a_new_process_runs_on_the_export_without_torch_and_reuses_document_vectors(
    tmp_path: Path, fresh_onnx: None
) -> None:
    get_embedder(backend="onnx", model_dir=tmp_path)  # exports once (this process has torch)
    reference = get_embedder()._encode_uncached(TEXTS)
    first = _run_lite(tmp_path)
    assert first["torch"] is False and first["st"] is False  # tokenizer + ONNX Runtime only
    assert first["encoded"] == len(TEXTS)
    vectors = np.asarray(first["vectors"], dtype=np.float32)
    assert (vectors * reference).sum(axis=1).min() > 0.9999  # same vectors as sentence-transformers on torch
    second = _run_lite(tmp_path)
    assert second["encoded"] == 0  # every document vector came from the disk cache
    np.testing.assert_allclose(np.asarray(second["vectors"], dtype=np.float32), vectors, atol=1e-6)


def test_disk_cache_failure_is_a_miss_not_an_error(tmp_path: Path, fresh_onnx: None) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    embedder = get_embedder(backend="onnx", model_dir=tmp_path)
    embedder.disk = None
    embedder.use_disk_cache(blocker)  # its parent is a file: the cache cannot be created
    vectors = embedder.encode(["a fresh text for the broken cache"])
    assert vectors.shape == (1, embedder.dimension)
    embedder.disk = None
