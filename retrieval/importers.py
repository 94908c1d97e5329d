"""Importers of JSON and CSV exports (incident trackers, spreadsheets) into documents.

Each record uses the front-matter keys of ARCHITECTURE.md (``id, title, date, services, category,
root_cause_service, root_cause_kind, resolution, url``) plus a text field, one of ``text``, ``body``,
``description``, ``content``, ``details`` (``summary`` is prepended when present). Lists (services,
kinds) may be JSON arrays or text separated by ``,``, ``;`` or ``|``. A ``type`` field
(``incident``/``runbook``) overrides the type given by the caller. Records without an id get a
stable one from their title and date, so a re-import updates instead of duplicating.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from bot.domain import Document, DocumentType, InputError, stable_hash
from retrieval.documents import LoadProblem, LoadResult, document_from_front_matter, split_runbook

_TEXT_KEYS = ("text", "body", "description", "content", "details", "postmortem")


def document_from_record(
    record: dict[str, Any],
    *,
    type: DocumentType,
    source: str,  # noqa: A002 - the contract's name
) -> Document:
    """One document from a flat record; raises ``InputError`` when it has neither title nor text."""
    record = {str(k).strip().lower(): v for k, v in record.items() if v not in (None, "")}
    doc_type = type
    if "type" in record:
        try:
            doc_type = DocumentType(str(record["type"]).strip().lower())
        except ValueError as e:
            raise InputError(f"type {record['type']!r} is not one of incident, runbook") from e
    body = next((str(record[k]) for k in _TEXT_KEYS if k in record), "")
    title = str(record.get("title") or record.get("name") or "")
    if not body.strip() and not str(record.get("summary", "")).strip():
        raise InputError("record has no text (expected one of: " + ", ".join(_TEXT_KEYS) + ", summary)")
    name = title or body[:60]
    if "id" not in record and "uuid" not in record:
        record["id"] = (
            f"{doc_type.value}:{source}:{stable_hash(title, str(record.get('date', '')), body[:200])}"
        )
    return document_from_front_matter(record, body, doc_type=doc_type, name=name, source=source)


def _records_to_result(records: list[Any], *, type: DocumentType, source: str, where: str) -> LoadResult:  # noqa: A002
    result = LoadResult()
    for n, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            result.problems.append(LoadProblem(f"{where}#{n}", "not an object"))
            continue
        try:
            doc = document_from_record(record, type=type, source=source)
        except InputError as e:
            result.problems.append(LoadProblem(f"{where}#{n}", str(e)))
            continue
        if doc.type is DocumentType.RUNBOOK:
            result.documents.extend(split_runbook(doc))
        else:
            result.documents.append(doc)
    return result


def read_json_file(path: str | Path, *, type: DocumentType = DocumentType.INCIDENT) -> LoadResult:  # noqa: A002
    """Documents from a JSON file: an array of records, an object holding one (``incidents``,
    ``documents``, ``items``, ``data``), or JSON Lines."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read {file}: {e.strerror}") from e
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise InputError(f"{file} is neither JSON nor JSON Lines: {e}") from e
    if isinstance(data, dict):
        for key in ("incidents", "documents", "runbooks", "items", "data", "records"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise InputError(f"{file}: expected an array of records")
    return _records_to_result(data, type=type, source="json", where=file.name)


def read_csv_file(path: str | Path, *, type: DocumentType = DocumentType.INCIDENT) -> LoadResult:  # noqa: A002
    """Documents from a CSV file with a header row."""
    file = Path(path)
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            rows = list(csv.DictReader(handle, dialect=dialect))
    except OSError as e:
        raise InputError(f"cannot read {file}: {e.strerror}") from e
    except csv.Error as e:
        raise InputError(f"{file} is not valid CSV: {e}") from e
    return _records_to_result(list(rows), type=type, source="csv", where=file.name)


def load_json_file(path: str | Path, type: DocumentType = DocumentType.INCIDENT) -> list[Document]:  # noqa: A002
    return read_json_file(path, type=type).documents


def load_csv_file(path: str | Path, type: DocumentType = DocumentType.INCIDENT) -> list[Document]:  # noqa: A002
    return read_csv_file(path, type=type).documents
