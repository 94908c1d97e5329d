"""From raw lines to log events: format detection per stream, multi-line joining, truncation.

``parse_lines`` streams: it holds at most one pending event (a stack trace still being joined), so it
works on inputs larger than memory. Lines that do not fit the stream's format are tried against the
other formats (mixed streams), and continuation lines (indented, ``at ...``, ``Caused by:``,
``Traceback``) are appended to the event before them.
"""

from __future__ import annotations

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


def detect_format(lines: Iterable[str], *, sample: int = 200) -> LineFormat:
    """The built-in format most of the first ``sample`` non-continuation lines parse with (else plain)."""
    picked: list[str] = []
    for line in lines:
        text = clean(line)
        if text.strip() and not _CONTINUATION.match(text):
            picked.append(text)
            if len(picked) >= sample:
                break
    if not picked:
        return _PLAIN
    best: LineFormat = _PLAIN
    best_hits = 0
    for fmt in BUILTIN_FORMATS:
        hits = 0
        for text in picked:
            try:
                if fmt.parse(text) is not None:
                    hits += 1
            except Exception:  # a format must never break detection
                continue
        if hits > best_hits:
            best, best_hits = fmt, hits
    return best if best_hits >= max(1, len(picked) * 0.3) else _PLAIN


def resolve_format(name: str | None = None, header: str | None = None) -> LineFormat | None:
    """The format a user asked for (``--format`` or ``--header``), or None to detect it."""
    if header:
        return HeaderFormat(header)
    if name and name != "auto":
        return format_named(name)
    return None


class LogParser:
    """Incremental parser: ``feed`` one line, get back the event it completed (if any)."""

    def __init__(self, fmt: LineFormat, *, service: str | None = None, join_multiline: bool = True) -> None:
        self.fmt = fmt
        self.service = service
        self.join_multiline = join_multiline
        self._pending: LogEvent | None = None
        self._others = [f for f in BUILTIN_FORMATS if f.name != fmt.name]

    def _parse(self, text: str) -> ParsedLine | None:
        try:
            parsed = self.fmt.parse(text)
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
        parsed = self._parse(text)
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
    if fmt is None:
        for line in iterator:
            head.append(line)
            if len(head) >= 200:
                break
        fmt = detect_format([clean(x) for x in head])
    parser = LogParser(fmt, service=service, join_multiline=join_multiline)
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
