"""Grafana alerting webhook contact point -> Alerts.

Unified alerting (Grafana 8+, ``"version": "1"``) sends an Alertmanager-like group notification whose
alerts add ``dashboardURL``, ``panelURL``, ``silenceURL``, ``values``/``valueString`` and ``imageURL``.
The legacy dashboard-alerting notifier (``ruleId``, ``ruleName``, ``state``, ``evalMatches``) is also read.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Alert, AlertStatus, PayloadError, Severity
from connectors.alerts.common import (
    RAW_LINKS,
    clean_links,
    group_items,
    parse_time,
    service_from_labels,
    set_start,
    stable_fingerprint,
    str_dict,
    text_or_none,
)

SOURCE = "grafana"

_LEGACY_STATES = {"alerting": AlertStatus.FIRING, "no_data": AlertStatus.FIRING, "ok": AlertStatus.RESOLVED,
                  "paused": AlertStatus.RESOLVED, "pending": AlertStatus.FIRING}


def looks_like(payload: dict[str, Any]) -> bool:
    if isinstance(payload.get("alerts"), list):
        return str(payload.get("version", "")) == "1" or "orgId" in payload
    return "ruleId" in payload and "state" in payload


def parse(payload: dict[str, Any]) -> list[Alert]:
    if not isinstance(payload, dict):
        raise PayloadError("grafana payload: expected a JSON object")
    if "alerts" not in payload and "ruleId" in payload:
        return [_legacy(payload)]
    out: list[Alert] = []
    for group_item in group_items(payload, where="grafana payload"):
        where, item, labels, annotations = group_item.where, group_item.raw, group_item.labels, group_item.annotations
        if item.get("valueString"):
            annotations.setdefault("value", str(item["valueString"]))
        alert = Alert(
            source=SOURCE,
            status=group_item.status,
            name=labels.get("alertname", "") or str(payload.get("title", "")),
            service=service_from_labels(labels),
            severity=Severity.parse(labels.get("severity") or labels.get("priority")),
            summary=annotations.get("summary", ""),
            description=annotations.get("description", "") or annotations.get("message", ""),
            labels=labels,
            annotations=annotations,
            ends_at=parse_time(item.get("endsAt"), field=f"{where}.endsAt"),
            generator_url=text_or_none(item.get("generatorURL")),
            external_id=text_or_none(item.get("fingerprint")),
            raw={
                "groupKey": payload.get("groupKey"), "externalURL": payload.get("externalURL"),
                "orgId": payload.get("orgId"), "truncatedAlerts": payload.get("truncatedAlerts", 0),
                "values": item.get("values") if isinstance(item.get("values"), dict) else None,
                RAW_LINKS: clean_links(dashboard=item.get("dashboardURL"), panel=item.get("panelURL"),
                                       silence=item.get("silenceURL"), image=item.get("imageURL"),
                                       runbook=annotations.get("runbook_url")),
            },
        )
        set_start(alert, [("startsAt", item.get("startsAt"))])
        # Grafana's fingerprint hashes the label set, like Alertmanager's: stable across notifications.
        alert.fingerprint = f"grafana:{alert.external_id}" if alert.external_id else stable_fingerprint(alert)
        out.append(alert)
    return out


def _legacy(payload: dict[str, Any]) -> Alert:
    state = str(payload.get("state", "alerting")).lower()
    status = _LEGACY_STATES.get(state)
    if status is None:
        raise PayloadError(f"grafana payload: state {state!r} is not one of {sorted(_LEGACY_STATES)}")
    tags = str_dict(payload.get("tags"), field="tags")
    name = str(payload.get("ruleName") or payload.get("title") or "")
    labels = {**_eval_match_tags(payload.get("evalMatches")), "alertname": name, **tags}
    alert = Alert(
        source=SOURCE,
        status=status,
        name=name,
        service=service_from_labels(labels),
        severity=Severity.parse(tags.get("severity")),
        summary=str(payload.get("title") or name),
        description=str(payload.get("message") or ""),
        labels=labels,
        generator_url=payload.get("ruleUrl") or None,
        external_id=str(payload.get("ruleId")),
        raw={"orgId": payload.get("orgId"), "dashboardId": payload.get("dashboardId"),
             "panelId": payload.get("panelId"), "evalMatches": payload.get("evalMatches"),
             RAW_LINKS: clean_links(dashboard=payload.get("ruleUrl"), image=payload.get("imageUrl"))},
    )
    alert.fingerprint = f"grafana-rule:{payload.get('orgId', 0)}:{payload.get('ruleId')}"
    return alert


def _eval_match_tags(matches: Any) -> dict[str, str]:
    """The series labels of the first evaluation match (``evalMatches[].tags``), weaker than the rule's tags."""
    for match in matches if isinstance(matches, list) else []:
        if isinstance(match, dict) and isinstance(match.get("tags"), dict):
            return {str(k): str(v) for k, v in match["tags"].items() if v is not None}
    return {}
