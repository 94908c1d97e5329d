"""Kubernetes events as kubectl prints them: ``kubectl get events`` tables (default, ``-o wide``, ``-A``, the
old ``FIRSTSEEN LASTSEEN COUNT NAME KIND ...`` layout, ``kubectl events``), the Events table of ``kubectl
describe``, and single event lines (``Warning  BackOff  pod/x  Back-off restarting failed container``)."""

from __future__ import annotations

import logging
import re

from detectors.kubernetes.model import KubeEvent, ObjectRef
from detectors.kubernetes.text import api_kind, parse_age_column, parse_ref

log = logging.getLogger(__name__)

_TYPE = r"(?P<type>Normal|Warning)"
_AGE = r"\S+(?:\s+\(x\d+\s+over\s+\S+\))?"
# a describe Events row: Type Reason Age From Message
DESCRIBE_ROW = re.compile(
    rf"^\s*{_TYPE}\s+(?P<reason>[A-Za-z][\w.-]*)\s+(?P<age>{_AGE})\s+(?P<src>\S+(?:,\s+\S+)?)\s+(?P<msg>.*)$"
)
# a get-events row in the default layout, or a bare event line: [NAMESPACE] [LAST SEEN] TYPE REASON OBJECT MESSAGE
OBJECT_ROW = re.compile(
    rf"^\s*(?:(?P<pre>.*?)\s+)?{_TYPE}\s+(?P<reason>[A-Za-z][\w.-]*)\s+(?P<obj>[A-Za-z][\w.-]*/[\w.:-]+)\s*(?P<msg>.*)$"
)
_TRAILING_AGE = re.compile(rf"({_AGE})\s*$")
_HEADER_CELL = re.compile(r"\S+(?: \S+)*")
_HEADER = re.compile(r"\bREASON\b.*\bMESSAGE\b|\bMESSAGE\b.*\bREASON\b")


def is_events_header(line: str) -> bool:
    return bool(_HEADER.search(line)) and bool(re.search(r"LAST ?SEEN|FIRST ?SEEN|\bTYPE\b", line))


def parse_events_table(text: str, *, origin: str = "") -> list[KubeEvent]:
    """Every event row of a ``kubectl get events`` output (several tables may follow each other)."""
    events: list[KubeEvent] = []
    columns: list[tuple[str, int]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if is_events_header(line):
            columns = [(m.group(0).replace(" ", "").upper(), m.start()) for m in _HEADER_CELL.finditer(line)]
            continue
        event = _from_columns(line, columns, origin) if columns else None
        event = event or parse_event_line(line, origin=origin)
        if event is not None:
            events.append(event)
        else:
            log.debug("kubernetes: event row not understood", extra={"origin": origin, "row": line[:200]})
    return events


def _cells(line: str, columns: list[tuple[str, int]]) -> dict[str, str]:
    cells = {}
    for i, (name, start) in enumerate(columns):
        end = columns[i + 1][1] if i + 1 < len(columns) else len(line)
        cells[name] = line[start:end].strip() if start < len(line) else ""
    return cells


# columns whose value is one word: a space inside one means the row is not aligned with the header
_ONE_WORD = ("TYPE", "REASON", "OBJECT", "KIND", "NAME", "NAMESPACE", "COUNT")


def _from_columns(line: str, columns: list[tuple[str, int]], origin: str) -> KubeEvent | None:
    """A row read by the header's column positions; None when the row does not line up with them (a paste whose
    names were redacted or renamed by hand, tabs turned into spaces), so the caller reads it word by word."""
    if any(start > 0 and start <= len(line) and line[start - 1] != " " for _, start in columns):
        return None
    cells = _cells(line, columns)
    if any(" " in cells.get(name, "") for name in _ONE_WORD):
        return None
    reason = cells.get("REASON", "")
    if not reason or " " in reason or ("TYPE" in cells and cells["TYPE"] not in ("Normal", "Warning")):
        return None
    if "OBJECT" in cells:
        obj = parse_ref(cells["OBJECT"])
    elif "NAME" in cells and "KIND" in cells:
        obj = ObjectRef(api_kind(cells["KIND"]), cells["NAME"].split(".", 1)[0])
    else:
        return None
    if not obj.name:
        return None
    obj.namespace = cells.get("NAMESPACE", "")
    last_age, first_age, count = parse_age_column(cells.get("LASTSEEN", ""))
    if cells.get("FIRSTSEEN"):
        first_age = parse_age_column(cells["FIRSTSEEN"])[0] or first_age
    if cells.get("COUNT", "").isdigit():
        count = int(cells["COUNT"])
    return KubeEvent(
        reason=reason, message=cells.get("MESSAGE", ""), obj=obj, type=cells.get("TYPE", ""), count=count,
        last_age=last_age, first_age=first_age, source_host=_host_of_source(cells.get("SOURCE", "")),
        origin=origin,
    )


def _host_of_source(source: str) -> str:
    """``kubelet, node-2`` -> ``node-2``; a controller name alone says no host."""
    parts = [p.strip() for p in source.split(",")]
    return parts[1] if len(parts) > 1 and parts[0] == "kubelet" else ""


def parse_event_line(line: str, *, origin: str = "", subject: ObjectRef | None = None) -> KubeEvent | None:
    """One event line with a TYPE and a REASON: a describe row (about ``subject``) or a get-events row."""
    row = OBJECT_ROW.match(line)
    if row:
        age = _TRAILING_AGE.search(row.group("pre") or "")
        last_age, first_age, count = parse_age_column(age.group(1) if age else "")
        return KubeEvent(reason=row.group("reason"), message=row.group("msg").strip(),
                         obj=parse_ref(row.group("obj")), type=row.group("type"), count=count,
                         last_age=last_age, first_age=first_age, origin=origin)
    row = DESCRIBE_ROW.match(line)
    if row:
        last_age, first_age, count = parse_age_column(row.group("age"))
        return KubeEvent(reason=row.group("reason"), message=row.group("msg").strip(),
                         obj=subject or ObjectRef("", ""), type=row.group("type"), count=count,
                         last_age=last_age, first_age=first_age, source_host=_host_of_source(row.group("src")),
                         reporter=row.group("src"), origin=origin)
    return None


def parse_describe_events(lines: list[str], subject: ObjectRef, *, origin: str = "") -> list[KubeEvent]:
    """The rows under a describe ``Events:`` heading; an indented line that is no row continues a message."""
    events: list[KubeEvent] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(("Type ", "----")) or stripped == "<none>":
            continue
        row = DESCRIBE_ROW.match(line)
        if row:
            last_age, first_age, count = parse_age_column(row.group("age"))
            events.append(KubeEvent(
                reason=row.group("reason"), message=row.group("msg").strip(), obj=subject, type=row.group("type"),
                count=count, last_age=last_age, first_age=first_age,
                source_host=_host_of_source(row.group("src")), reporter=row.group("src"), origin=origin,
            ))
        elif events and line.startswith("    "):
            events[-1].message = f"{events[-1].message} {stripped}"
    return events
