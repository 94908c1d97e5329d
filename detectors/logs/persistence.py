"""Where a template miner keeps its state between runs.

A ``MinerStore`` is anything with ``load() -> dict | None`` and ``save(state: dict)``. Two ship here:
``MemoryMinerStore`` (tests, one process) and ``JsonFileMinerStore`` (a JSON snapshot written atomically).
The lead can back the protocol by the database's key-value table with a ten-line class.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from bot.domain.errors import InputError


class MinerStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...

    def save(self, state: dict[str, Any]) -> None: ...


class MemoryMinerStore:
    """Keeps the last saved state in memory (a deep copy through JSON, as a real store would)."""

    def __init__(self) -> None:
        self._blob: str | None = None

    def load(self) -> dict[str, Any] | None:
        return None if self._blob is None else dict(json.loads(self._blob))

    def save(self, state: dict[str, Any]) -> None:
        self._blob = json.dumps(state)


class JsonFileMinerStore:
    """A JSON snapshot on disk; written to a temporary file and renamed, so a crash never leaves half a file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"template snapshot {self.path} is unreadable ({e}); delete it to start afresh") from e
        if not isinstance(data, dict):
            raise InputError(f"template snapshot {self.path} does not hold a JSON object; delete it to start afresh")
        return data

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".miner-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
