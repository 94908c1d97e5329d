"""The log source protocol and the helper that asks every configured source for one service's lines."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from bot.domain.errors import ConnectorError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Lines of ``service`` between ``start`` and ``end`` (UTC), at most ``limit`` of them (the newest kept)."""

    service: str
    start: datetime
    end: datetime
    limit: int = 200_000

    @classmethod
    def around(cls, service: str, alert_time: datetime, *, minutes: int = 30, after_minutes: int = 5,
               limit: int = 200_000) -> LogQuery:
        at = alert_time.astimezone(UTC)
        return cls(service, at - timedelta(minutes=minutes), at + timedelta(minutes=after_minutes), limit)


class LogSourceUnavailable(ConnectorError):
    """The system did not answer (refused, dropped, timed out), refused our credentials, or answered
    that it is unavailable (502/503/504): asking it again for another service would fail the same way."""


UNAVAILABLE_STATUS = frozenset({401, 403, 502, 503, 504})


def without_userinfo(url: str) -> str:
    """``url`` without ``user:password@``: never print credentials in a note."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class LogSource(Protocol):
    """A system that holds log lines. ``fetch`` raises ``ConnectorError`` when the system fails."""

    name: str

    async def fetch(self, query: LogQuery) -> list[str]: ...


_OWN_TIME = re.compile(
    r"^\s*(?:\{|\d{2,4}[-/.]\d{2}[-/.]\d{2}|\d{6} \d{6}|[A-Z][a-z]{2}\s+\d{1,2} \d|<\d{1,3}>|\[|[IWEF]\d{4} |"
    r"\S+ \S+ \S+ \[\d{2}/\w{3}/\d{4}|\d{10})"
)


def has_own_time(line: str) -> bool:
    """Whether a line already starts with a timestamp (or is JSON / syslog / bracketed), by its shape."""
    return _OWN_TIME.match(line) is not None


def stamp(ts: datetime, line: str) -> str:
    """The line with an ISO-8601 UTC timestamp in front, unless it carries a time of its own."""
    if has_own_time(line):
        return line
    return f"{ts.astimezone(UTC).isoformat().replace('+00:00', 'Z')} {line}"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def fetch_service_logs(sources: list[LogSource], query: LogQuery) -> tuple[list[str], list[str]]:
    """(lines from every source that answered, one note per source that failed). Never raises."""
    results = await asyncio.gather(*(s.fetch(query) for s in sources), return_exceptions=True)
    lines: list[str] = []
    notes: list[str] = []
    for source, result in zip(sources, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, ConnectorError):
                log.warning("log source failed unexpectedly", extra={"source": source.name}, exc_info=result)
            notes.append(f"{source.name}: {result}")
            continue
        lines.extend(result)
    return lines[-query.limit:], notes
