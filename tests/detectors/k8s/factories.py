"""Small builders for the Kubernetes detector tests: the recorded-style kubectl outputs under data/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain import Alert, ChangeEvent, Incident, IncidentContext, KubeText

DATA = Path(__file__).resolve().parent / "data"
ALERT_TIME = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def kube(name: str, *, as_name: str | None = None) -> KubeText:
    return KubeText(name=as_name or name, text=(DATA / name).read_text(encoding="utf-8"))


def context(*texts: KubeText, events: list[ChangeEvent] | None = None, service: str | None = None) -> IncidentContext:
    alert = Alert(name="KubePodCrashLooping", service=service, starts_at=ALERT_TIME)
    incident = Incident(service=service, alerts=[alert], started_at=ALERT_TIME)
    return IncidentContext(incident=incident, kubernetes=list(texts), events=events or [])
