"""Opsgenie Alert API v2 through ``opsgenie-sdk``: closed-alert history for retrieval, and write-back.

- ``history_documents(since=...)``: closed alerts (``GET /v2/alerts?query=status: closed AND
  createdAt >= <epoch ms>``, offset pagination), each with its description
  (``GET /v2/alerts/{id}``) and notes (``GET /v2/alerts/{id}/notes``), as past-incident documents;
- ``add_note``, ``acknowledge``, ``close`` (``POST /v2/alerts/{id}/notes|acknowledge|close``);
  Opsgenie processes these asynchronously and answers 202 with a request id, which is returned. A write is
  sent once even after a network error (opsgenie-sdk would repeat it): ``notes`` tells whether it arrived.

The host comes from ``opsgenie.api_url`` (e.g. ``https://api.eu.opsgenie.com``, or a local stand-in).
``document_from_alert`` is a pure function of the API's data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.domain import ConnectorError, Document, DocumentType
from connectors.pagerduty.client import pick_resolution

if TYPE_CHECKING:
    from connectors.opsgenie.settings import OpsgenieSettings

logger = logging.getLogger(__name__)

PAGE = 100
MAX_OFFSET = 20000  # the API refuses offset + limit above 20,000
_SERVICE_KEYS = ("service", "Service", "app", "application", "component")


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(vars(obj))


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def app_url_for(api_url: str) -> str | None:
    """The web app of an Opsgenie API host (``api.eu.opsgenie.com`` -> ``app.eu.opsgenie.com``)."""
    host = api_url.split("://", 1)[-1].split("/", 1)[0]
    if host.startswith("api.") and host.endswith("opsgenie.com"):
        return "https://app." + host[4:]
    return None


def document_from_alert(
    alert: dict[str, Any], notes: list[dict[str, Any]], *, app_url: str | None = None
) -> Document:
    """A past-incident document from an Opsgenie alert (``GET /v2/alerts/{id}`` data) and its notes."""
    details = {str(k): str(v) for k, v in (alert.get("details") or {}).items()}
    tags = [str(t) for t in alert.get("tags") or []]
    service = next((details[k] for k in _SERVICE_KEYS if details.get(k)), None)
    if service is None:
        service = next((t.split(":", 1)[1] for t in tags if t.lower().startswith("service:")), None)
    if service is None and alert.get("entity"):
        service = str(alert["entity"])
    note_texts = [
        str(n.get("note") or "").strip()
        for n in sorted(notes, key=lambda n: str(n.get("created_at") or n.get("createdAt") or ""))
    ]
    note_texts = [t for t in note_texts if t]
    title = str(alert.get("message") or alert.get("id"))
    lines = [title]
    description = str(alert.get("description") or "").strip()
    if description and description != title:
        lines.append(description)
    if details:
        lines.append("Details: " + "; ".join(f"{k}={v}" for k, v in details.items()))
    if tags:
        lines.append("Tags: " + ", ".join(tags))
    if note_texts:
        lines.append("Notes:")
        lines += [f"- {t}" for t in note_texts]
    alert_id = str(alert.get("id"))
    return Document(
        id=f"opsgenie:{alert_id}",
        type=DocumentType.INCIDENT,
        title=title,
        text="\n".join(lines),
        url=f"{app_url}/alert/detail/{alert_id}/details" if app_url else None,
        services=[service] if service else [],
        resolution=pick_resolution(note_texts),
        date=_aware(alert.get("created_at") or alert.get("createdAt")),
        source="opsgenie",
        metadata={
            k: v
            for k, v in {
                "external_id": alert_id,
                "tiny_id": alert.get("tiny_id") or alert.get("tinyId"),
                "priority": alert.get("priority"),
                "alias": alert.get("alias"),
            }.items()
            if v
        },
    )


class OpsgenieConnector:
    """Opsgenie through an injected (or settings-built) ``opsgenie_sdk.AlertApi``."""

    def __init__(
        self,
        settings: OpsgenieSettings,
        *,
        alert_api: Any | None = None,
        retries: int = 2,
        retry_delay_s: float = 2.0,
    ) -> None:
        self.settings = settings
        writer: Any = alert_api
        if alert_api is None:
            alert_api = self._new_api(retries=retries, retry_delay_s=retry_delay_s)
            # opsgenie-sdk repeats a request after a network error (a read timeout too): a note whose answer
            # was lost would be added twice. Writes are tried once; the caller looks the note up first.
            writer = self._new_api(retries=0, retry_delay_s=retry_delay_s)
        self._api = alert_api
        self._writer = writer
        self._app_url = app_url_for(settings.api_url)

    def _new_api(self, *, retries: int, retry_delay_s: float) -> Any:
        if self.settings.api_key is None:
            raise ConnectorError("opsgenie.api_key is not set (SHERLOG__OPSGENIE__API_KEY)")
        import opsgenie_sdk

        conf = opsgenie_sdk.Configuration()
        conf.host = self.settings.api_url.rstrip("/")
        conf.api_key["Authorization"] = self.settings.api_key.get_secret_value()
        conf.api_key_prefix["Authorization"] = "GenieKey"
        conf.retry_enabled = retries > 0
        conf.retry_count = retries
        conf.retry_delay = retry_delay_s
        conf.retry_max_delay = max(retry_delay_s * (retries + 1), 1.0)
        conf.back_off = min(retry_delay_s, 1.0)
        return opsgenie_sdk.AlertApi(opsgenie_sdk.ApiClient(conf))

    def _error(self, action: str, error: Exception) -> ConnectorError:
        status = getattr(error, "status", None)
        hint = {401: " (check opsgenie.api_key)", 403: " (the key lacks permission)", 404: " (unknown alert)"}
        detail = f"HTTP {status}{hint.get(status or 0, '')}" if status else str(error)
        return ConnectorError(f"Opsgenie at {self.settings.api_url} failed to {action}: {detail}")

    # ---- history ------------------------------------------------------------------------------

    def closed_alerts(self, *, since: datetime) -> Iterator[dict[str, Any]]:
        """Closed alerts created at or after ``since``, oldest first."""
        since_ms = int(since.timestamp() * 1000)
        query = f"status: closed AND createdAt >= {since_ms}"
        offset = 0
        while offset < MAX_OFFSET:
            try:
                page = self._api.list_alerts(
                    query=query, offset=offset, limit=PAGE, sort="createdAt", order="asc"
                )
            except Exception as e:
                raise self._error("list closed alerts", e) from e
            rows = [_as_dict(a) for a in (page.data or [])]
            for row in rows:
                created = _aware(row.get("created_at"))
                if row.get("status") == "closed" and (created is None or created >= since):
                    yield row
            if len(rows) < PAGE:
                return
            offset += PAGE
        logger.warning("opsgenie history truncated", extra={"max_offset": MAX_OFFSET})

    def alert(self, alert_id: str) -> dict[str, Any]:
        try:
            return _as_dict(self._api.get_alert(alert_id, identifier_type="id").data)
        except Exception as e:
            raise self._error(f"read alert {alert_id}", e) from e

    def notes(self, alert_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset: str | None = None
        for _ in range(50):  # at most 50 pages of notes
            try:
                kwargs: dict[str, Any] = {
                    "identifier_type": "id",
                    "limit": 100,
                    "order": "asc",
                    "direction": "next",
                }
                if offset:
                    kwargs["offset"] = offset
                page = self._api.list_notes(alert_id, **kwargs)
            except Exception as e:
                raise self._error(f"read the notes of alert {alert_id}", e) from e
            rows = [_as_dict(n) for n in (page.data or [])]
            out += rows
            if len(rows) < 100 or not rows[-1].get("offset"):
                break
            offset = str(rows[-1]["offset"])
        return out

    def history_documents(self, *, since: datetime) -> Iterator[Document]:
        for row in self.closed_alerts(since=since):
            alert_id = str(row["id"])
            full = {**row, **{k: v for k, v in self.alert(alert_id).items() if v is not None}}
            yield document_from_alert(full, self.notes(alert_id), app_url=self._app_url)

    # ---- write-back ---------------------------------------------------------------------------

    def _post(self, action: str, alert_id: str, call: Any) -> str:
        try:
            response = call()
        except Exception as e:
            raise self._error(f"{action} alert {alert_id}", e) from e
        logger.info("opsgenie alert updated", extra={"alert": alert_id, "action": action})
        return str(getattr(response, "request_id", "") or "")

    def add_note(self, alert_id: str, note: str, *, user: str = "Sherlog") -> str:
        """Add a note; returns Opsgenie's request id (the API processes it asynchronously)."""
        import opsgenie_sdk

        payload = opsgenie_sdk.AddNoteToAlertPayload(note=note, user=user, source="Sherlog")
        return self._post(
            "add a note to", alert_id, lambda: self._writer.add_note(alert_id, payload, identifier_type="id")
        )

    def acknowledge(self, alert_id: str, *, note: str | None = None, user: str = "Sherlog") -> str:
        import opsgenie_sdk

        payload = opsgenie_sdk.AcknowledgeAlertPayload(note=note, user=user, source="Sherlog")
        return self._post(
            "acknowledge",
            alert_id,
            lambda: self._writer.acknowledge_alert(
                alert_id, identifier_type="id", acknowledge_alert_payload=payload
            ),
        )

    def close(self, alert_id: str, *, note: str | None = None, user: str = "Sherlog") -> str:
        import opsgenie_sdk

        payload = opsgenie_sdk.CloseAlertPayload(note=note, user=user, source="Sherlog")
        return self._post(
            "close",
            alert_id,
            lambda: self._writer.close_alert(alert_id, identifier_type="id", close_alert_payload=payload),
        )
