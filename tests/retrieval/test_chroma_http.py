"""The Chroma HTTP backend against a real Chroma server (``chroma run``, shipped with chromadb)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import RetrievalSettings, Settings
from retrieval import Retriever, SearchFilters
from tests.processes import free_port, stop, wait_http
from tests.retrieval.conftest import NOW, history

pytestmark = pytest.mark.integration


def _chroma_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("chroma")
    return str(beside_python) if beside_python.exists() else shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = _chroma_binary()
    if binary is None:
        pytest.skip("the chroma command (chromadb package) is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [binary, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, timeout=60, interval=0.3):
            pytest.fail("the Chroma server did not start")
        yield port
    finally:
        stop(server)


def test_http_backend_stores_filters_and_ranks_like_memory(chroma_port: int, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        retrieval=RetrievalSettings(
            backend="http",
            chroma_host="127.0.0.1",
            chroma_port=chroma_port,
            collection=f"test-{tmp_path.name}",
        ),
    )
    remote = Retriever.from_settings(settings)
    remote.ping()
    assert remote.upsert(history()).summary() == "5 added, 0 updated, 0 skipped"
    again = Retriever.from_settings(settings)  # a second API replica sees the same index
    assert again.count() == 5
    assert again.upsert(history()).skipped_by_reason == {"unchanged": 5}
    local = Retriever.in_memory()
    local.upsert(history())
    for query, filters in [
        ("certificate expired handshake failures", None),
        ("containers killed for memory", SearchFilters(services=["payments", "search"])),
        ("disk", SearchFilters(category="storage")),
    ]:
        assert [h.document.id for h in again.search(query, k=3, filters=filters, now=NOW)] == [
            h.document.id for h in local.search(query, k=3, filters=filters, now=NOW)
        ]
    # a document written by another replica after this one loaded its catalogue is found too
    remote.upsert(
        [
            history()[0].model_copy(
                update={
                    "id": "inc-new",
                    "title": "Kafka consumer lag on orders",
                    "text": "Consumers fell behind; lag grew to 2 million messages.",
                    "services": ["orders"],
                }
            )
        ]
    )
    assert again.search("consumer lag growing", k=1, now=NOW)[0].document.id == "inc-new"
    assert again.search("kafka consumer lag", k=1, now=NOW)[0].bm25 > 0  # and by keywords from then on
    assert again.delete(["inc-disk"]) == 1
    assert Retriever.from_settings(settings).count() == 5
