"""Prometheus Alertmanager webhook (version 4) -> Alerts.

Format: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config — a group notification
with ``alerts[]`` (status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint), plus
``commonLabels``, ``groupKey`` and ``truncatedAlerts`` (alerts left out of a large group).
"""

from __future__ import annotations

from typing import Any

from bot.domain import Alert, PayloadError, Severity
from connectors.alerts.common import (
    RAW_LINKS,
    clean_links,
    group_items,
    parse_time,
    require,
    service_from_labels,
    set_start,
    text_or_none,
)

SOURCE = "alertmanager"


def looks_like(payload: dict[str, Any]) -> bool:
    return isinstance(payload.get("alerts"), list) and ("groupKey" in payload or "receiver" in payload) and (
        "orgId" not in payload and "dashboardId" not in payload and str(payload.get("version", "4")) == "4"
    )


def parse(payload: dict[str, Any]) -> list[Alert]:
    require(payload, "alerts", list, where="alertmanager payload")
    version = str(payload.get("version", "4"))
    if version != "4":
        raise PayloadError(f"alertmanager payload: webhook version {version!r} is not supported (need 4)")
    out: list[Alert] = []
    for group_item in group_items(payload, where="alertmanager payload"):
        where, item, labels, annotations = group_item.where, group_item.raw, group_item.labels, group_item.annotations
        alert = Alert(
            source=SOURCE,
            status=group_item.status,
            name=labels.get("alertname", ""),
            service=service_from_labels(labels),
            severity=Severity.parse(labels.get("severity")),
            summary=annotations.get("summary", ""),
            description=annotations.get("description", "") or annotations.get("message", ""),
            labels=labels,
            annotations=annotations,
            ends_at=parse_time(item.get("endsAt"), field=f"{where}.endsAt"),
            generator_url=text_or_none(item.get("generatorURL")),
            external_id=text_or_none(item.get("fingerprint")),
            raw={"groupKey": payload.get("groupKey"), "externalURL": payload.get("externalURL"),
                 "truncatedAlerts": payload.get("truncatedAlerts", 0), "receiver": payload.get("receiver"),
                 RAW_LINKS: clean_links(runbook=annotations.get("runbook_url"),
                                        dashboard=annotations.get("dashboard_url") or annotations.get("grafana_url"))},
        )
        set_start(alert, [("startsAt", item.get("startsAt"))])
        # Alertmanager's own fingerprint is a hash of the label set: stable across notifications.
        alert.fingerprint = f"am:{alert.external_id}" if alert.external_id else alert.compute_fingerprint()
        out.append(alert)
    return out
