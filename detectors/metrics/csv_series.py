"""Read a ``timestamp,value`` CSV (ISO-8601 or epoch seconds/milliseconds) into a ``MetricSeries``."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.errors import InputError
from bot.domain.models import MetricSeries


def parse_ts(text: str) -> datetime:
    raw = text.strip()
    try:
        x = float(raw)
    except ValueError:
        try:
            d = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as e:
            raise InputError(f"timestamp {raw!r} is neither ISO-8601 nor epoch seconds") from e
        return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)
    if x > 1e11:  # epoch milliseconds
        x /= 1000.0
    return datetime.fromtimestamp(x, tz=UTC)


def parse_value(text: str | None) -> float:
    if text is None or text.strip() == "":
        return math.nan
    try:
        return float(text)
    except ValueError as e:
        raise InputError(f"value {text!r} is not a number") from e


def iter_rows(lines: Iterable[str], *, source: str = "input") -> Iterator[tuple[datetime, float]]:
    """(timestamp, value) per data row, streaming; the header must name ``timestamp`` and ``value``."""
    reader = csv.DictReader(lines)
    if not reader.fieldnames or not {"timestamp", "value"} <= {f.strip() for f in reader.fieldnames}:
        raise InputError(f"{source}: needs a header with the columns timestamp,value")
    for n, row in enumerate(reader, start=2):
        try:
            yield parse_ts(row["timestamp"]), parse_value(row["value"])
        except InputError as e:
            raise InputError(f"{source}:{n}: {e}") from e


def read_series_csv(path: Path, *, service: str = "unknown", metric: str | None = None) -> MetricSeries:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(iter_rows(fh, source=str(path)))
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    return MetricSeries(
        service=service,
        metric=metric or path.stem,
        timestamps=[t for t, _ in rows],
        values=[v for _, v in rows],
    )
