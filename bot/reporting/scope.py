"""What a report covers: a time range and filters, parsed from query parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain import InputError, Severity, utcnow
from bot.domain.vocabulary import Category

MAX_DAYS = 3660  # the widest range a report covers (about ten years); wider ranges are refused
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _parse_ts(value: str | None, *, name: str, end_of_day: bool = False) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            ts = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), tzinfo=UTC)
        else:
            ts = datetime.fromisoformat(text)
        ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        in_range = EARLIEST <= ts <= LATEST
    except (ValueError, OverflowError) as e:
        raise InputError(f"{name}={value!r} is not an ISO-8601 date or timestamp (e.g. 2026-01-31) "
                         f"between {EARLIEST.year} and {LATEST.year}") from e
    if not in_range:
        raise InputError(f"{name}={value!r} is outside the supported years {EARLIEST.year}-{LATEST.year - 1} "
                         f"(a report covers at most {MAX_DAYS} days)")
    return ts


@dataclass(frozen=True)
class ReportScope:
    """Incidents created in ``[since, until)``, optionally of one service, category or severity."""

    since: datetime
    until: datetime
    service: str | None = None
    category: str | None = None
    severity: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        since: str | None = None,
        until: str | None = None,
        days: int | None = None,
        service: str | None = None,
        category: str | None = None,
        severity: str | None = None,
        now: datetime | None = None,
    ) -> ReportScope:
        """Build a scope from query parameters. ``until`` defaults to now, ``since`` to ``until - days``
        (30 days when neither is given). A bare date in ``until`` includes that whole day."""
        end = _parse_ts(until, name="until", end_of_day=True) or (now or utcnow())
        start = _parse_ts(since, name="since")
        if start is None:
            span = 30 if days is None else days
            if not 1 <= span <= MAX_DAYS:
                raise InputError(f"days={span} must be between 1 and {MAX_DAYS}")
            start = end - timedelta(days=span)
        if start >= end:
            raise InputError(f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
        if end - start > timedelta(days=MAX_DAYS):
            raise InputError(f"the range {start.date().isoformat()} .. {end.date().isoformat()} spans "
                             f"{(end - start).days} days; a report covers at most {MAX_DAYS} days: "
                             "narrow since/until")
        if category:
            known = {c.value for c in Category}
            if category not in known:
                raise InputError(f"category={category!r} is unknown; use one of {sorted(known)}")
        if severity:
            known_sev = {s.value for s in Severity}
            if severity not in known_sev:
                raise InputError(f"severity={severity!r} is unknown; use one of {sorted(known_sev)}")
        return cls(since=start, until=end, service=service or None, category=category or None,
                   severity=severity or None)

    @property
    def days(self) -> list[date]:
        """Every UTC day the range touches, in order."""
        first = self.since.astimezone(UTC).date()
        last = (self.until - timedelta(microseconds=1)).astimezone(UTC).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def as_dict(self) -> dict[str, str | None]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "service": self.service,
                "category": self.category, "severity": self.severity}
