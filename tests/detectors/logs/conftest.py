"""Log detector tests run without the process's embedder unless a test gives one (a pipeline built by an
earlier test in the same process would otherwise lend them the real model)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from detectors.logs import semantic


@pytest.fixture(autouse=True)
def _no_process_embedder() -> Iterator[None]:
    semantic.use_encoder(None)
    yield
    semantic.use_encoder(None)
