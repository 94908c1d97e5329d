"""Whether the ingested index holds anything, known without loading Chroma (``sherlog analyze`` skips it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from config.settings import load_settings
from retrieval import Retriever
from retrieval.chroma_store import ChromaVectorStore, persistent_known_empty
from tests.retrieval.conftest import history


def test_an_absent_or_fresh_embedded_index_is_known_empty_and_one_with_records_is_not(tmp_path: Path) -> None:
    folder = tmp_path / "chroma"
    assert persistent_known_empty(folder)
    store = ChromaVectorStore.persistent(folder, collection="sherlog")
    assert persistent_known_empty(folder)  # created, nothing written
    docs = history()[:2]
    vectors = np.random.default_rng(0).normal(size=(len(docs), 384)).astype(np.float32)
    store.upsert(docs, ["h1", "h2"], vectors)
    assert store.count() == 2
    assert not persistent_known_empty(folder)


def test_anything_unexpected_means_unknown(tmp_path: Path) -> None:
    (tmp_path / "no-database").mkdir()
    assert not persistent_known_empty(tmp_path / "no-database")  # another layout: open it to know
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "chroma.sqlite3").write_bytes(b"not a database at all" * 100)
    assert not persistent_known_empty(broken)


def test_which_backends_are_known_empty(tmp_path: Path) -> None:
    assert Retriever.index_known_empty(load_settings(data_dir=tmp_path, retrieval={"backend": "memory"}))
    assert not Retriever.index_known_empty(load_settings(retrieval={"backend": "http", "chroma_port": 1}))
    embedded = load_settings(data_dir=tmp_path, retrieval={"backend": "embedded"})
    assert Retriever.index_known_empty(embedded)
    assert not (tmp_path / "chroma").exists()  # asking created nothing
    ChromaVectorStore.persistent(tmp_path / "chroma", collection=embedded.retrieval.collection).upsert(
        history()[:1], ["h1"], np.ones((1, 384), dtype=np.float32))
    assert not Retriever.index_known_empty(embedded)
