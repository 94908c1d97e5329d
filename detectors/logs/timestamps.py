"""Timestamp parsing for the formats Sherlog reads; every result is an aware UTC datetime.

Fast paths first (ISO-8601 through ``datetime.fromisoformat``, epoch numbers), then the classic
layouts (syslog, Apache, access log, nginx, klog, loghub's short dates). Unparseable text gives ``None``,
never an exception.

A year-less timestamp (syslog ``Jan 15 16:35:00``, klog ``I0115 16:35:00``) takes the year that puts it at or
before the reference time (at most ``YEARLESS_AHEAD`` after it): the incident's start while an analysis runs
(``reference_time``), else now. Lines of a past incident therefore get that incident's year, and December lines
read in January the year before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}

_ISO_LIKE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[T _\-]+(\d{1,2})[:.](\d{2})[:.](\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?$"
)
_SYSLOG = re.compile(r"^([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\s+(\d{4}))?$")
_APACHE = re.compile(
    r"^(?:[A-Za-z]{3}\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s+(\d{4})$"
)
_ACCESS = re.compile(r"^(\d{1,2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\s+([+-]\d{4}))?$")
_KLOG = re.compile(r"^(\d{2})(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")
_SHORT = re.compile(r"^(\d{2})(\d{2})(\d{2})\s+(\d{2})(\d{2})(\d{2})$")  # loghub HDFS: 081109 203615
_SLASH2 = re.compile(r"^(\d{2})/(\d{2})/(\d{2})\s+(\d{2}):(\d{2}):(\d{2})$")  # Spark: 17/06/09 20:10:40


YEARLESS_AHEAD = timedelta(days=31)  # a year-less line this far after the reference belongs to the year before
_REFERENCE: ContextVar[datetime | None] = ContextVar("sherlog_log_reference_time", default=None)


@contextmanager
def reference_time(when: datetime | None) -> Iterator[None]:
    """While inside, year-less timestamps take their year from ``when`` (an incident's start) instead of now."""
    token = _REFERENCE.set(when if when is None or when.tzinfo else when.replace(tzinfo=UTC))
    try:
        yield
    finally:
        _REFERENCE.reset(token)


def _yearless(month: int, day: int, h: int, mi: int, s: int, us: int, year: int | None) -> datetime | None:
    """A year-less stamp: in ``year`` when the caller gives one, else in the year that puts it at or before the
    reference time (plus ``YEARLESS_AHEAD``)."""
    if year:
        return _build(year, month, day, h, mi, s, us, UTC)
    ref = _REFERENCE.get() or datetime.now(UTC)
    for candidate in (ref.year, ref.year - 1):
        built = _build(candidate, month, day, h, mi, s, us, UTC)
        if built is not None and built <= ref + YEARLESS_AHEAD:
            return built
    return None


def _tz(text: str | None) -> timezone:
    if not text or text in {"Z", "z", "UTC"}:
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _frac(text: str | None) -> int:
    return int((text or "0")[:6].ljust(6, "0"))


def _build(year: int, month: int, day: int, h: int, mi: int, s: int, us: int, tz: timezone) -> datetime | None:
    try:
        return datetime(year, month, day, h, mi, min(s, 59), us, tzinfo=tz).astimezone(UTC)
    except ValueError:
        return None


def parse_timestamp(text: str | None, *, year: int | None = None) -> datetime | None:
    """The UTC instant a timestamp string names, or None."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > 64:
        return None
    first = text[0]
    if first.isdigit() and len(text) >= 19 and text[4] == "-" and text[10] in "T ":
        try:  # the common case, in C
            ts = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
    if first.isdigit():
        if text.replace(".", "", 1).isdigit():
            return _epoch(text)
        m = _ISO_LIKE.match(text)
        if m:
            y, mo, d, h, mi, s, frac, tz = m.groups()
            return _build(int(y), int(mo), int(d), int(h), int(mi), int(s), _frac(frac), _tz(tz))
        m = _ACCESS.match(text)
        if m:
            d, mon, y, h, mi, s, tz = m.groups()
            month = _MONTHS.get(mon.lower())
            return _build(int(y), month, int(d), int(h), int(mi), int(s), 0, _tz(tz)) if month else None
        m = _SHORT.match(text)
        if m:
            y, mo, d, h, mi, s = (int(g) for g in m.groups())
            return _build(2000 + y, mo, d, h, mi, s, 0, UTC)
        m = _SLASH2.match(text)
        if m:
            y, mo, d, h, mi, s = (int(g) for g in m.groups())
            return _build(2000 + y, mo, d, h, mi, s, 0, UTC)
        m = _KLOG.match(text)
        if m:
            mo, d, h, mi, s, frac = m.groups()
            return _yearless(int(mo), int(d), int(h), int(mi), int(s), _frac(frac), year)
        return None
    m = _SYSLOG.match(text)
    if m:
        mon, d, h, mi, s, frac, y = m.groups()
        month = _MONTHS.get(mon.lower())
        if month:
            if y:
                return _build(int(y), month, int(d), int(h), int(mi), int(s), _frac(frac), UTC)
            return _yearless(month, int(d), int(h), int(mi), int(s), _frac(frac), year)
    m = _APACHE.match(text)
    if m:
        mon, d, h, mi, s, frac, y = m.groups()
        month = _MONTHS.get(mon.lower())
        if month:
            return _build(int(y), month, int(d), int(h), int(mi), int(s), _frac(frac), UTC)
    return None


def _epoch(text: str) -> datetime | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if value > 1e17:  # nanoseconds
        value /= 1e9
    elif value > 1e14:  # microseconds
        value /= 1e6
    elif value > 1e11:  # milliseconds
        value /= 1e3
    if not 1e8 < value < 1e10:
        return None
    return datetime.fromtimestamp(value, UTC)
