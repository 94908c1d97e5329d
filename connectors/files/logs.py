"""Files and stdin: read a service's log file, or follow one like ``tail -F`` (rotation-safe).

``FileLogSource`` reads ``<directory>/<service>.log`` (and rotated ``<service>.log.1``) for an
analysis; a service name that is not a plain file name (empty, ``.``, ``..``, or holding ``/`` or a NUL)
is not read, so a name from an alert cannot reach files outside ``log_dir``. ``FileTailer`` follows a path: ``poll()`` returns the complete lines written since the last
call; when the file is rotated (new inode) or truncated, it finishes the old file and starts the new
one from its beginning. ``follow`` wraps it in an async iterator. Partial last lines wait for their
newline.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import IO

from bot.domain.errors import ConnectorError
from connectors.logsources.base import LogQuery

MAX_LINE_BYTES = 1_048_576


class FileLogSource:
    name = "files"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def fetch(self, query: LogQuery) -> list[str]:
        return await asyncio.to_thread(self._read, query)

    def _read(self, query: LogQuery) -> list[str]:
        name = query.service
        if name in ("", ".", "..") or "/" in name or "\0" in name or (os.altsep and os.altsep in name):
            raise ConnectorError("the service name is not a plain file name; not read "
                                 "(logs.log_dir holds <service>.log)")
        paths = [self.directory / f"{query.service}.log.1", self.directory / f"{query.service}.log"]
        lines: deque[str] = deque(maxlen=query.limit)
        found = False
        for path in paths:
            if not path.is_file():
                continue
            found = True
            try:
                with path.open(encoding="utf-8", errors="replace") as fh:
                    lines.extend(line.rstrip("\r\n") for line in fh)
            except OSError as e:
                raise ConnectorError(f"cannot read log file {path}: {e.strerror}") from e
        if not found:
            return []
        return list(lines)


def read_stream(stream: IO[str], *, limit: int = 200_000) -> list[str]:
    """The last ``limit`` lines of a text stream (stdin)."""
    return list(deque((line.rstrip("\r\n") for line in stream), maxlen=limit))


class FileTailer:
    """Follow one path across rotations and truncations."""

    def __init__(self, path: str | Path, *, from_start: bool = False) -> None:
        self.path = Path(path)
        self._fh: IO[bytes] | None = None
        self._inode: int | None = None
        self._buffer = b""
        self._from_start = from_start

    def _open(self, *, at_end: bool) -> bool:
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return False
        except OSError as e:
            raise ConnectorError(f"cannot open {self.path}: {e.strerror}") from e
        if at_end:
            fh.seek(0, os.SEEK_END)
        self._fh = fh
        self._inode = os.fstat(fh.fileno()).st_ino
        return True

    def _drain(self) -> Iterator[str]:
        assert self._fh is not None
        chunk = self._fh.read()
        if not chunk:
            return
        data = self._buffer + chunk
        *complete, self._buffer = data.split(b"\n")
        if len(self._buffer) > MAX_LINE_BYTES:  # a runaway line: emit it truncated
            complete.append(self._buffer[:MAX_LINE_BYTES])
            self._buffer = b""
        for raw in complete:
            yield raw[:MAX_LINE_BYTES].decode("utf-8", errors="replace").rstrip("\r")

    def poll(self) -> list[str]:
        """Lines completed since the last poll."""
        if self._fh is None:
            opened = self._open(at_end=not self._from_start)
            self._from_start = True  # a file that appears later (or again) is read from its start
            if not opened:
                return []
        out = list(self._drain())
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return out  # rotated away and not yet recreated: keep the old handle
        assert self._fh is not None
        rotated = st.st_ino != self._inode
        truncated = not rotated and st.st_size < self._fh.tell()
        if rotated or truncated:
            out.extend(self._drain())
            if self._buffer:
                out.append(self._buffer.decode("utf-8", errors="replace"))
                self._buffer = b""
            self._fh.close()
            self._fh = None
            if self._open(at_end=False):
                out.extend(self._drain())
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


async def follow(path: str | Path, *, interval_s: float = 0.5, from_start: bool = False) -> AsyncIterator[str]:
    """Yield lines appended to ``path`` forever (until cancelled), surviving rotation."""
    tailer = FileTailer(path, from_start=from_start)
    try:
        while True:
            for line in tailer.poll():
                yield line
            await asyncio.sleep(interval_s)
    finally:
        tailer.close()


def lines_of(paths: Iterable[str | Path]) -> Iterator[str]:
    """Every line of the given files in order (streaming)."""
    for path in paths:
        with Path(path).open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                yield line.rstrip("\r\n")
