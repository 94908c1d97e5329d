"""What a tool call gives back: a status and text, never an exception; and how it becomes evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain import Evidence, EvidenceType
from bot.reasoning.redact import redact

EVIDENCE_DETAIL_CHARS = 1500


class ToolStatus(StrEnum):
    OK = "ok"  # data returned
    EMPTY = "empty"  # the query ran and found nothing (also evidence)
    REFUSED = "refused"  # an argument leaves the alert's scope
    ERROR = "error"  # malformed call, unknown tool, or the system behind the tool failed
    OVER_BUDGET = "over_budget"  # not run: the investigation's budget is spent


CITABLE = frozenset({ToolStatus.OK, ToolStatus.EMPTY})


@dataclass
class ToolOutput:
    """A tool's answer before numbering: the text the model reads and a one-line summary."""

    text: str
    summary: str
    type: EvidenceType
    service: str | None = None
    ts: datetime | None = None
    empty: bool = False


@dataclass
class ToolResult:
    n: int
    tool: str
    arguments: dict[str, Any]
    status: ToolStatus
    text: str  # redacted, clipped: what the model reads (the reason, when refused or failed)
    summary: str = ""
    type: EvidenceType = EvidenceType.LOG
    service: str | None = None
    ts: datetime | None = None
    duration_ms: float = 0.0
    size_chars: int = 0  # of the tool's own output, before clipping

    @property
    def id(self) -> str:
        return f"tool:{self.n}"

    @property
    def citable(self) -> bool:
        return self.status in CITABLE

    def evidence(self) -> Evidence:
        args = ", ".join(f"{k}={v}" for k, v in self.arguments.items() if v not in (None, ""))
        return Evidence(id=self.id, type=self.type, service=self.service, ts=self.ts, weight=0.5,
                        summary=f"{self.tool}({args})"[:200] + f": {self.summary}"[:300],
                        detail=self.text[:EVIDENCE_DETAIL_CHARS])

    def record(self) -> dict[str, Any]:
        """The entry of ``analysis.llm["tool_calls"]``."""
        out: dict[str, Any] = {"id": self.id, "tool": self.tool, "arguments": self.arguments,
                               "status": self.status.value, "duration_ms": round(self.duration_ms, 1),
                               "size_chars": self.size_chars, "summary": self.summary[:300]}
        if not self.citable:
            out["reason"] = self.text[:300]
        return out


def clip(text: str, limit: int) -> str:
    """``text`` redacted and cut to ``limit`` characters, keeping the end (the newest lines) when cut."""
    clean = redact(text)
    if len(clean) <= limit:
        return clean
    note = f"[... {len(clean) - limit} earlier characters cut ...]\n"
    return note + clean[-(limit - len(note)):]


def safe_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments as recorded and shown: scalars only, redacted, short."""
    out: dict[str, Any] = {}
    for key, value in list(arguments.items())[:12]:
        if isinstance(value, bool | int | float) or value is None:
            out[str(key)[:40]] = value
        else:
            out[str(key)[:40]] = redact(str(value))[:300]
    return out
