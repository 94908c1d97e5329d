"""Vendor alert payload writers: the webhook body each monitoring tool sends when the alert fires.

Shapes follow the vendors' documented webhooks (and the recorded examples in
``../shared/data/alert-payloads``): Alertmanager webhook version 4, Grafana unified alerting
(version 1), PagerDuty V3 ``incident.triggered``, Opsgenie alert action ``Create`` and the Datadog
webhook integration's default payload.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from bot.simulation.logs import iso

ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass
class AlertFacts:
    """What fired, vendor-neutral."""

    name: str
    service: str
    severity: str  # critical | warning
    summary: str
    description: str
    starts_at: datetime
    metric: str
    value: float
    threshold: float
    expr: str
    labels: dict[str, str] = field(default_factory=dict)
    runbook_url: str = ""
    exact: bool = False  # labels as an exporter's rule sets them: no service/namespace/env added

    @property
    def all_labels(self) -> dict[str, str]:
        if self.exact:
            return {"alertname": self.name, **self.labels, "severity": self.severity}
        labels = {"alertname": self.name, "service": self.service, "severity": self.severity,
                  "namespace": "default", "env": "production"}
        labels.update(self.labels)
        return labels

    def fingerprint(self) -> str:
        text = ",".join(f"{k}={v}" for k, v in sorted(self.all_labels.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _uid(seed: str) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(seed.encode()).hexdigest())  # noqa: S324 - an id, not security


def _am_alert(f: AlertFacts, base: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": f.all_labels,
        "annotations": {"summary": f.summary, "description": f.description,
                        **({"runbook_url": f.runbook_url} if f.runbook_url else {})},
        "startsAt": iso(f.starts_at, 3),
        "endsAt": ZERO_TIME,
        "generatorURL": f"{base}/graph?g0.expr={quote_plus(f.expr)}&g0.tab=1",
        "fingerprint": f.fingerprint(),
    }


def _common(alerts: list[AlertFacts]) -> tuple[dict[str, str], dict[str, str]]:
    labels = dict(alerts[0].all_labels)
    for other in alerts[1:]:
        labels = {k: v for k, v in labels.items() if other.all_labels.get(k) == v}
    annotations = {"summary": alerts[0].summary} if len(alerts) == 1 else {}
    return labels, annotations


def alertmanager(alerts: list[AlertFacts]) -> dict[str, Any]:
    labels, annotations = _common(alerts)
    group = {"alertname": alerts[0].name} if len({a.name for a in alerts}) == 1 else {}
    return {
        "version": "4",
        "groupKey": "{}:{" + ", ".join(f'{k}="{v}"' for k, v in group.items()) + "}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "sherlog",
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.monitoring.svc:9093",
        "alerts": [_am_alert(a, "http://prometheus.monitoring.svc:9090") for a in alerts],
    }


def grafana(alerts: list[AlertFacts]) -> dict[str, Any]:
    labels, annotations = _common(alerts)
    items = []
    for a in alerts:
        item = _am_alert(a, "")
        rule = _uid(a.name + a.service).hex[:14]
        item["generatorURL"] = f"https://grafana.example.com/alerting/grafana/{rule}/view?orgId=1"
        matchers = "&".join(f"matcher={quote_plus(k + '=' + v)}" for k, v in sorted(a.all_labels.items()))
        item["silenceURL"] = f"https://grafana.example.com/alerting/silence/new?alertmanager=grafana&{matchers}&orgId=1"
        item["dashboardURL"] = f"https://grafana.example.com/d/{rule[:9]}?orgId=1"
        item["panelURL"] = f"https://grafana.example.com/d/{rule[:9]}?orgId=1&viewPanel=2"
        item["values"] = {"A": round(a.value, 4), "C": 1}
        item["valueString"] = (f"[ var='A' labels={{service={a.service}}} value={a.value:.6g} ], "
                               f"[ var='C' labels={{service={a.service}}} value=1 ]")
        items.append(item)
    lines = ["**Firing**", ""]
    for a in alerts:
        lines += [f"Value: A={a.value:.6g}, C=1", "Labels:"] + [f" - {k} = {v}" for k, v in sorted(a.all_labels.items())]
        lines += ["Annotations:", f" - description = {a.description}", f" - summary = {a.summary}", ""]
    return {
        "receiver": "sherlog",
        "status": "firing",
        "orgId": 1,
        "alerts": items,
        "groupLabels": {"alertname": alerts[0].name},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "https://grafana.example.com/",
        "version": "1",
        "groupKey": "{}/{}:{alertname=\"" + alerts[0].name + "\"}",
        "truncatedAlerts": 0,
        "title": f"[FIRING:{len(alerts)}] {alerts[0].name} ({labels.get('service', '')})".replace(" ()", ""),
        "state": "alerting",
        "message": "\n".join(lines),
    }


def pagerduty(alerts: list[AlertFacts]) -> dict[str, Any]:
    a = alerts[0]
    ids = _uid(a.fingerprint() + iso(a.starts_at)).hex.upper()
    inc, svc, ep, user = "P" + ids[:6], "P" + ids[6:12], "P" + ids[12:18], "P" + ids[18:24]
    base = "https://acme.pagerduty.com"
    return {
        "event": {
            "id": "01" + ids[:24],
            "event_type": "incident.triggered",
            "resource_type": "incident",
            "occurred_at": iso(a.starts_at),
            "agent": {"html_url": f"{base}/services/{svc}", "id": svc, "self": f"https://api.pagerduty.com/services/{svc}",
                      "summary": a.service, "type": "service_reference"},
            "client": {"name": "Prometheus Alertmanager", "url": "http://alertmanager.monitoring.svc:9093"},
            "data": {
                "id": inc, "type": "incident", "self": f"https://api.pagerduty.com/incidents/{inc}",
                "html_url": f"{base}/incidents/{inc}", "number": int(ids[24:28], 16) % 9000 + 100,
                "status": "triggered", "incident_key": a.fingerprint(),
                "created_at": iso(a.starts_at),
                "title": f"[FIRING:1] {a.name} {a.service} ({a.summary})",
                "service": {"html_url": f"{base}/services/{svc}", "id": svc,
                            "self": f"https://api.pagerduty.com/services/{svc}", "summary": a.service,
                            "type": "service_reference"},
                "assignees": [{"html_url": f"{base}/users/{user}", "id": user,
                               "self": f"https://api.pagerduty.com/users/{user}", "summary": "On-call SRE",
                               "type": "user_reference"}],
                "escalation_policy": {"html_url": f"{base}/escalation_policies/{ep}", "id": ep,
                                      "self": f"https://api.pagerduty.com/escalation_policies/{ep}",
                                      "summary": "Production on-call", "type": "escalation_policy_reference"},
                "teams": [], "priority": None,
                "urgency": "high" if a.severity == "critical" else "low",
                "conference_bridge": None, "resolve_reason": None,
            },
        }
    }


def opsgenie(alerts: list[AlertFacts]) -> dict[str, Any]:
    a = alerts[0]
    ms = int(a.starts_at.timestamp() * 1000)
    alert_id = str(_uid("og" + a.fingerprint() + iso(a.starts_at)))
    return {
        "action": "Create",
        "alert": {
            "alertId": alert_id,
            "message": f"{a.name}: {a.summary}",
            "tags": [f"service:{a.service}", f"severity:{a.severity}", "env:production", f"alertname:{a.name}"],
            "tinyId": str(int(alert_id[:4], 16) % 5000),
            "entity": a.service,
            "alias": a.fingerprint(),
            "createdAt": ms,
            "updatedAt": ms * 1_000_000 + 110,
            "username": "Alertmanager",
            "userId": str(_uid("og-user")),
            "recipients": [],
            "teams": [],
            "description": a.description,
            "details": {k: v for k, v in a.all_labels.items()},
            "source": "Prometheus",
            "insertedAt": ms * 1_000_000 + 110,
            "priority": "P1" if a.severity == "critical" else "P3",
        },
        "source": {"name": "Prometheus", "type": "Prometheus"},
        "integrationId": str(_uid("og-integration")),
        "integrationName": "Webhook",
        "integrationType": "Webhook",
    }


def datadog(alerts: list[AlertFacts]) -> dict[str, Any]:
    a = alerts[0]
    ms = str(int(a.starts_at.timestamp() * 1000))
    monitor = int(_uid("dd" + a.name).hex[:7], 16)
    body = (f"%%%\n@webhook-sherlog\n\n{a.description}\n\n"
            f"{a.metric} over service:{a.service} was > {a.threshold:g} on average during the last 5m "
            f"(value {a.value:.4g}).\n\nThe monitor was last triggered at "
            f"{a.starts_at.strftime('%a %b %d %Y %H:%M:%S UTC')}.\n\n- - -\n\n"
            f"[[Monitor Status](https://app.datadoghq.com/monitors#{monitor}?)] · "
            f"[[Edit Monitor](https://app.datadoghq.com/monitors#{monitor}/edit)]\n%%%")
    return {
        "body": body,
        "last_updated": ms,
        "event_type": "query_alert_monitor",
        "title": f"[Triggered on {{service:{a.service},env:production}}] {a.name}: {a.summary}",
        "date": ms,
        "org": {"id": "415600", "name": "Acme"},
        "id": str(int(_uid("dd-event" + a.fingerprint() + ms).hex[:15], 16)),
    }


WRITERS = {"alertmanager": alertmanager, "grafana": grafana, "pagerduty": pagerduty, "opsgenie": opsgenie,
           "datadog": datadog}


def payload(vendor: str, alerts: list[AlertFacts]) -> dict[str, Any]:
    """The webhook body ``vendor`` would send for ``alerts`` (multi-alert vendors keep them all)."""
    return WRITERS[vendor](alerts)
