"""CSV export of any report's ``rows`` (a flat list of dicts), whole or streamed; the incident list as
JSON, streamed."""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    text = str(value)
    # keep spreadsheet apps from evaluating cells as formulas
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def stream_csv(rows: Iterable[dict[str, Any]], columns: Iterable[str], *, batch: int = 200) -> Iterator[str]:
    """The CSV text of ``rows`` (fixed ``columns``) in chunks of ``batch`` rows, header first."""
    names = list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    pending = 0
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in names])
        pending += 1
        if pending >= batch:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            pending = 0
    yield out.getvalue()


_SPOOL_BYTES = 1 << 20  # the copy of the rows kept in memory before it moves to a temporary file


def _json_value(value: Any) -> Any:
    """JSON-safe: a non-finite float (which ``json`` would write as ``NaN``, invalid JSON) becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_json_value(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def stream_json_rows(head: dict[str, Any], rows: Iterable[dict[str, Any]], *, batch: int = 200) -> Iterator[str]:
    """One JSON object, written while ``rows`` is read: ``head``'s keys, then ``"items"`` and ``"rows"`` (both
    the list of rows, the shape of the whole report) and ``"total"``.

    Items go out ``batch`` rows at a time; the copy that becomes ``"rows"`` is spooled (memory up to 1 MiB,
    then a temporary file), so memory stays bounded whatever the number of rows, and both lists come from
    the same single read."""
    opening = _dumps(head)[:-1]
    yield opening + ("," if head else "") + '"items":['
    total = 0
    chunk: list[str] = []
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        for row in rows:
            text = ("," if total else "") + _dumps(row)
            chunk.append(text)
            spool.write(text)
            total += 1
            if len(chunk) >= batch:
                yield "".join(chunk)
                chunk = []
        chunk.append('],"rows":[')
        yield "".join(chunk)
        spool.seek(0)
        while block := spool.read(64 * 1024):
            yield block
    yield f'],"total":{total}}}'
