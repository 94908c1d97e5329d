"""From raw lines to log events: format detection per stream, multi-line joining, truncation.

``parse_lines`` streams: it holds at most one pending event (a stack trace still being joined), so it
works on inputs larger than memory. Lines that do not fit the stream's format are tried against the
other formats (mixed streams), and continuation lines (indented, ``at ...``, ``Caused by:``,
``Traceback``) are appended to the event before them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from detectors.logs.formats import (
    BUILTIN_FORMATS,
    MAX_LINE_CHARS,
    HeaderFormat,
    JsonFormat,
    LineFormat,
    ParsedLine,
    PlainFormat,
    format_named,
)

MAX_EVENT_CHARS = 16_000
MAX_EVENT_LINES = 200
_PLAIN = PlainFormat()
_JSON = JsonFormat()

_CONTINUATION = re.compile(
    r"^(?:\s+\S|\s*at [\w$.<>]+\(|\s*\.\.\. \d+ (?:more|common frames omitted)|Caused by:|Suppressed:|"
    r"Traceback \(most recent call last\)|During handling of the above exception|"
    r"The above exception was the direct cause|[\w$.]+(?:Error|Exception|Throwable)(?::|$)|\s*File \")"
)


@dataclass(slots=True)
class LogEvent:
    """One event: the first line's number (1-based) and text, the joined message, parsed header fields."""

    line_no: int
    raw: str
    message: str
    ts: datetime | None = None
    level: str | None = None
    service: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    lines: int = 1


def clean(line: str | bytes) -> str:
    """A printable, bounded line: bytes decoded leniently, NULs and trailing newline dropped, truncated."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    if len(line) > MAX_LINE_CHARS:
        line = line[:MAX_LINE_CHARS]
    if "\x00" in line:
        line = line.replace("\x00", "")
    return line.rstrip("\r\n")


class _Failed:
    """A format's parse raised on the line (detection counts it as not parsed)."""


_FAILED = _Failed()
Reading = ParsedLine | None | _Failed  # what a format's parse gave for one line


def _read(fmt: LineFormat, text: str) -> Reading:
    try:
        return fmt.parse(text)
    except Exception:  # noqa: BLE001 - a format must never break detection
        return _FAILED


def detect_format(lines: Iterable[str], *, sample: int = 200) -> LineFormat:
    """The built-in format most of the first ``sample`` non-continuation lines parse with, the first of
    ``BUILTIN_FORMATS`` on a tie, when it parses at least 30% of them (else plain)."""
    return _detect(lines, sample)[0]


def _detect(lines: Iterable[str], sample: int) -> tuple[LineFormat, dict[int, Reading]]:
    """``detect_format``, and how the format picked read each line it was picked by (by the line's index in
    ``lines``), so a parser of the same lines need not parse them again."""
    picked: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        text = clean(line)
        if text.strip() and not _CONTINUATION.match(text):
            picked.append((index, text))
            if len(picked) >= sample:
                break
    if not picked:
        return _PLAIN, {}
    # Counting stops as soon as a format can no longer be picked, so the formats that parse the first line are
    # counted first: the likely winner sets the bar early, and the others fail it within a line or two
    # instead of being tried on every line.
    first = [_read(fmt, picked[0][1]) for fmt in BUILTIN_FORMATS]
    order = sorted(range(len(BUILTIN_FORMATS)), key=lambda i: not isinstance(first[i], ParsedLine))
    best: int | None = None
    best_hits = math.ceil(max(1, len(picked) * 0.3)) - 1  # to be picked, a format must parse more lines than this
    best_reads: dict[int, Reading] = {}
    for i in order:
        # more lines than the best so far, or as many when it comes first in BUILTIN_FORMATS
        bar = best_hits if best is None or i > best else best_hits - 1
        hits = 0
        reads: dict[int, Reading] = {}
        for tried, (index, text) in enumerate(picked):
            if hits + len(picked) - tried <= bar:
                break  # it can no longer pass the bar
            reading = first[i] if tried == 0 else _read(BUILTIN_FORMATS[i], text)
            reads[index] = reading
            hits += isinstance(reading, ParsedLine)
        if hits > bar:
            best, best_hits, best_reads = i, hits, reads
    return (_PLAIN, {}) if best is None else (BUILTIN_FORMATS[best], best_reads)


def resolve_format(name: str | None = None, header: str | None = None) -> LineFormat | None:
    """The format a user asked for (``--format`` or ``--header``), or None to detect it."""
    if header:
        return HeaderFormat(header)
    if name and name != "auto":
        return format_named(name)
    return None


class LogParser:
    """Incremental parser: ``feed`` one line, get back the event it completed (if any)."""

    def __init__(self, fmt: LineFormat, *, service: str | None = None, join_multiline: bool = True,
                 read: dict[int, Reading] | None = None) -> None:
        self.fmt = fmt
        self.service = service
        self.join_multiline = join_multiline
        self._pending: LogEvent | None = None
        self._others = [f for f in BUILTIN_FORMATS if f.name != fmt.name]
        self._read = read if read is not None else {}  # line number -> what ``fmt`` read of it already (taken once)

    def _parse(self, text: str, line_no: int) -> ParsedLine | None:
        try:
            reading = self._read.pop(line_no) if line_no in self._read else self.fmt.parse(text)
            if isinstance(reading, _Failed):
                return None
            parsed = reading
            if parsed is None and text.startswith("{") and self.fmt.name != "json":
                parsed = _JSON.parse(text)
            return parsed
        except Exception:
            return None

    def _parse_other(self, text: str) -> ParsedLine:
        for fmt in self._others:
            try:
                parsed = fmt.parse(text)
            except Exception:
                parsed = None
            if parsed is not None:
                return parsed
        return _PLAIN.parse(text) or ParsedLine(message=text)

    def feed(self, line: str | bytes, line_no: int) -> LogEvent | None:
        text = clean(line)
        if not text.strip():
            return None
        parsed = self._parse(text, line_no)
        if parsed is None:
            pending = self._pending
            if (self.join_multiline and pending is not None and _CONTINUATION.match(text)
                    and pending.lines < MAX_EVENT_LINES and len(pending.message) < MAX_EVENT_CHARS):
                pending.message = f"{pending.message}\n{text.strip()}"
                pending.lines += 1
                if pending.level in (None, "info", "debug") and ("Exception" in text or "Error" in text):
                    pending.level = "error"
                return None
            parsed = self._parse_other(text)
        done = self._pending
        self._pending = LogEvent(
            line_no=line_no, raw=text, message=parsed.message, ts=parsed.ts, level=parsed.level,
            service=parsed.service or self.service, fields=parsed.fields,
        )
        return done

    def flush(self) -> LogEvent | None:
        done, self._pending = self._pending, None
        return done


def parse_lines(
    lines: Iterable[str | bytes],
    *,
    fmt: LineFormat | None = None,
    service: str | None = None,
    start: int = 1,
    join_multiline: bool = True,
) -> Iterator[LogEvent]:
    """Events of a stream of raw lines (format detected from the first lines when ``fmt`` is None)."""
    iterator = iter(lines)
    head: list[str | bytes] = []
    read: dict[int, Reading] = {}
    if fmt is None:
        for line in iterator:
            head.append(line)
            if len(head) >= 200:
                break
        fmt, reads = _detect([clean(x) for x in head], 200)
        read = {start + index: reading for index, reading in reads.items()}
    parser = LogParser(fmt, service=service, join_multiline=join_multiline, read=read)
    line_no = start - 1
    for source in (head, iterator):
        for line in source:
            line_no += 1
            event = parser.feed(line, line_no)
            if event is not None:
                yield event
    last = parser.flush()
    if last is not None:
        yield last
