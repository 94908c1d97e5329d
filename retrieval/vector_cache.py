"""Document vectors kept on disk between processes, keyed by the embedder's signature and the text's digest.

A one-shot ``sherlog analyze`` embeds the bundle's history every run; with this cache a text is run through
the model once per machine. One SQLite file per signature (vectors are comparable only under the same
signature), written in WAL mode so that concurrent processes read while one writes. Every failure is a miss
(logged once), never an error: the cache only saves time.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

MAX_ROWS_PER_QUERY = 500


class VectorCache:
    """float32 vectors by 16-byte text digest in ``<folder>/vectors-<signature digest>.sqlite3``."""

    def __init__(self, folder: Path, *, signature: str, dimension: int) -> None:
        tag = hashlib.blake2b(signature.encode("utf-8"), digest_size=6).hexdigest()
        self.path = folder / f"vectors-{tag}.sqlite3"
        self.dimension = dimension
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None or self._broken:
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vec (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
            conn.commit()
            self._conn = conn
        except (OSError, sqlite3.Error) as e:
            self._broken = True
            logger.warning("vector cache unavailable", extra={"path": str(self.path), "error": str(e)})
        return self._conn

    def get_many(self, keys: Iterable[bytes]) -> dict[bytes, npt.NDArray[np.float32]]:
        wanted = list(dict.fromkeys(keys))
        found: dict[bytes, npt.NDArray[np.float32]] = {}
        with self._lock:
            conn = self._connect()
            if conn is None:
                return found
            try:
                for start in range(0, len(wanted), MAX_ROWS_PER_QUERY):
                    part = wanted[start : start + MAX_ROWS_PER_QUERY]
                    marks = ",".join("?" * len(part))
                    for key, blob in conn.execute(f"SELECT k, v FROM vec WHERE k IN ({marks})", part):
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.size == self.dimension:
                            found[bytes(key)] = vector.copy()
            except sqlite3.Error as e:
                logger.warning("vector cache read failed", extra={"path": str(self.path), "error": str(e)})
        return found

    def put_many(self, items: Iterable[tuple[bytes, npt.NDArray[np.float32]]]) -> None:
        rows = [(key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items]
        if not rows:
            return
        with self._lock:
            conn = self._connect()
            if conn is None:
                return
            try:
                conn.executemany("INSERT OR REPLACE INTO vec (k, v) VALUES (?, ?)", rows)
                conn.commit()
            except sqlite3.Error as e:
                logger.warning("vector cache write failed", extra={"path": str(self.path), "error": str(e)})
