"""Jinja filters of the dashboard: durations, percentages, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import Environment

from bot.domain.links import safe_url


def minutes(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 60:.0f} s"
    if value < 90:
        return f"{value:.1f} min"
    hours, mins = divmod(round(value), 60)
    if hours < 48:
        return f"{hours} h {mins:02d} min"
    return f"{hours / 24:.1f} d"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def timestamp(value: datetime | str | None, seconds: bool = False) -> str:
    if value is None:
        return "—"
    ts = datetime.fromisoformat(value) if isinstance(value, str) else value
    ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def register(env: Environment) -> None:
    env.filters["mins"] = minutes
    env.filters["pct"] = percent
    env.filters["dt"] = timestamp
    env.filters["safe_url"] = safe_url
