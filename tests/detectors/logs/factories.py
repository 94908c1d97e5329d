"""Small builders of synthetic log streams for the log detector tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def web_service_lines(
    *, seconds: int = 1800, incident_from: int | None = None, incident_line: str | None = None,
    every: int = 3, seed: int = 3,
) -> list[str]:
    """One request log line a second, a warning now and then, and optionally an incident line."""
    rng = random.Random(seed)
    lines = []
    for i in range(seconds):
        t = T0 + timedelta(seconds=i)
        lines.append(f"{iso(t)} INFO [http-{i % 4}] web.Handler - GET /api/orders/{rng.randint(1, 9999)} "
                     f"200 in {rng.randint(2, 90)}ms")
        if i % 60 == 0:
            lines.append(f"{iso(t)} WARN [pool] web.Cache - cache refresh took {rng.randint(100, 900)}ms")
        if incident_from is not None and incident_line and i >= incident_from and i % every == 0:
            lines.append(f"{iso(t)} ERROR [http-{i % 4}] web.Handler - {incident_line}")
    return lines
