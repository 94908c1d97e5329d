"""Intake: alerts -> incidents. Persist first, dedup by fingerprint, group related alerts.

``IntakeService.accept(alerts)`` is idempotent: a repeated notification (same alert fingerprint) updates
the open incident it already belongs to and never creates another. A resolved notification resolves
the alert; when every alert of an incident is resolved, the incident is resolved.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain import Alert, AlertStatus, Incident, IncidentStatus, Severity, utcnow
from bot.storage import Store

log = logging.getLogger(__name__)

_SEVERITY_ORDER = [Severity.INFO, Severity.WARNING, Severity.HIGH, Severity.CRITICAL]


@dataclass
class IntakeResult:
    incidents: list[Incident] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # incident ids created by this call
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    alerts: int = 0

    @property
    def incident_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for inc in self.incidents:
            seen.setdefault(inc.id, None)
        return list(seen)


def group_key(alert: Alert) -> str:
    """Alerts of one service with one alert name belong together (the grouping engineer refines this)."""
    return f"{alert.service or alert.labels.get('alertname', alert.name)}|{alert.name}"


class IntakeService:
    def __init__(self, *, store: Store, group_window: timedelta = timedelta(minutes=30)) -> None:
        self.store = store
        self.group_window = group_window
        self._lock = threading.Lock()

    def accept(self, alerts: list[Alert]) -> IntakeResult:
        result = IntakeResult(alerts=len(alerts))
        with self._lock:
            for alert in alerts:
                alert.fingerprint = alert.compute_fingerprint()
                incident, created = self._route(alert)
                if created:
                    result.created.append(incident.id)
                elif incident.status == IncidentStatus.RESOLVED and incident.id not in result.resolved:
                    result.resolved.append(incident.id)
                elif incident.id not in result.created:
                    result.updated.append(incident.id)
                result.incidents.append(incident)
        return result

    def _route(self, alert: Alert) -> tuple[Incident, bool]:
        existing = self.store.find_incident_by_alert_fingerprint(fingerprint=alert.fingerprint)
        if existing is not None:
            known = {a.fingerprint: a for a in self.store.get_incident(incident_id=existing.id).alerts}
            previous = known.get(alert.fingerprint)
            if previous is not None:
                alert.id = previous.id  # same alert, new notification: update in place
            self.store.add_alert(incident_id=existing.id, alert=alert)
            return self._refresh(existing.id, alert), False
        if alert.status == AlertStatus.RESOLVED:
            # A resolve for an alert we never saw open: record it on a resolved incident, never open one.
            incident = self._new_incident(alert)
            incident.status = IncidentStatus.RESOLVED
            incident.resolved_at = alert.ends_at or utcnow()
            self.store.save_incident(incident=incident)
            self.store.add_alert(incident_id=incident.id, alert=alert)
            return incident, False
        key = group_key(alert)
        grouped = self.store.find_open_incident(fingerprint=key)
        if grouped is not None and alert.starts_at - (grouped.started_at or grouped.created_at) <= self.group_window:
            self.store.add_alert(incident_id=grouped.id, alert=alert)
            return self._refresh(grouped.id, alert), False
        incident = self._new_incident(alert)
        self.store.save_incident(incident=incident)
        self.store.add_alert(incident_id=incident.id, alert=alert)
        log.info("incident opened", extra={"incident_id": incident.id, "service": incident.service})
        return self.store.get_incident(incident_id=incident.id), True

    @staticmethod
    def _new_incident(alert: Alert) -> Incident:
        return Incident(
            fingerprint=group_key(alert),
            title=alert.summary or alert.name,
            service=alert.service,
            severity=alert.severity,
            source=alert.source,
            labels=alert.labels,
            started_at=alert.starts_at,
        )

    def _refresh(self, incident_id: str, alert: Alert) -> Incident:
        incident = self.store.get_incident(incident_id=incident_id)
        if _SEVERITY_ORDER.index(alert.severity) > _SEVERITY_ORDER.index(incident.severity):
            incident.severity = alert.severity
        firing = [a for a in incident.alerts if a.status == AlertStatus.FIRING]
        if not firing and incident.status != IncidentStatus.RESOLVED:
            incident.status = IncidentStatus.RESOLVED
            incident.resolved_at = alert.ends_at or utcnow()
        elif firing and incident.status == IncidentStatus.RESOLVED:
            incident.status = IncidentStatus.OPEN
            incident.resolved_at = None
        self.store.save_incident(incident=incident)
        return incident
