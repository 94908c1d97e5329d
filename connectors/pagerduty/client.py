"""PagerDuty REST API v2 through ``pdpyras``: incident history for retrieval, and write-back.

- ``history_documents(since=...)``: resolved incidents (``GET /incidents?statuses[]=resolved``, in
  windows of at most 179 days as the API requires) with their notes (``GET /incidents/{id}/notes``),
  as past-incident ``Document``s; the last note that reads like a fix becomes the resolution.
- ``add_note`` (``POST /incidents/{id}/notes``), ``acknowledge`` and ``resolve``
  (``PUT /incidents/{id}``); these need ``pagerduty.from_email`` (the API's ``From`` header). A write is
  sent once even after a network error (pdpyras would repeat it): ``notes`` tells whether it arrived.

The base URL comes from ``pagerduty.api_url`` so a local stand-in can take PagerDuty's place.
``document_from_incident`` is a pure function of the API's JSON.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.domain import ConnectorError, Document, DocumentType

if TYPE_CHECKING:
    import pdpyras

    from connectors.pagerduty.settings import PagerDutySettings

logger = logging.getLogger(__name__)

MAX_WINDOW = timedelta(days=179)
_FIX_WORDS = re.compile(
    r"\b(fix|fixed|resolv|resolution|root cause|rolled back|rollback|revert|restart|mitigat|caused by)", re.I
)


def _session_class() -> type[pdpyras.APISession]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pdpyras announces its deprecation on import
        import pdpyras

    session_class: type[pdpyras.APISession] = pdpyras.APISession
    return session_class


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def pick_resolution(notes: list[str]) -> str | None:
    """The last note that reads like a fix, else the last note."""
    for note in reversed(notes):
        if _FIX_WORDS.search(note):
            return note
    return notes[-1] if notes else None


def document_from_incident(incident: dict[str, Any], notes: list[dict[str, Any]]) -> Document:
    """A past-incident document from a PagerDuty incident object and its notes (API JSON)."""
    service = (incident.get("service") or {}).get("summary") or None
    note_texts = [
        str(n.get("content") or "").strip() for n in sorted(notes, key=lambda n: str(n.get("created_at", "")))
    ]
    note_texts = [t for t in note_texts if t]
    title = str(incident.get("title") or incident.get("summary") or incident.get("id"))
    lines = [title]
    description = str(incident.get("description") or "").strip()
    if description and description != title:
        lines.append(description)
    body = (incident.get("body") or {}).get("details")
    if isinstance(body, str) and body.strip():
        lines.append(body.strip())
    if note_texts:
        lines.append("Notes:")
        lines += [f"- {t}" for t in note_texts]
    priority = (incident.get("priority") or {}).get("summary")
    metadata: dict[str, Any] = {
        "external_id": incident.get("id"),
        "incident_number": incident.get("incident_number"),
        "urgency": incident.get("urgency"),
    }
    if priority:
        metadata["priority"] = priority
    return Document(
        id=f"pagerduty:{incident.get('id')}",
        type=DocumentType.INCIDENT,
        title=title,
        text="\n".join(lines),
        url=incident.get("html_url"),
        services=[service] if service else [],
        resolution=pick_resolution(note_texts),
        date=_parse_time(incident.get("created_at")),
        source="pagerduty",
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


class PagerDutyConnector:
    """PagerDuty through an injected (or settings-built) ``pdpyras.APISession``."""

    def __init__(self, settings: PagerDutySettings, *, session: pdpyras.APISession | None = None) -> None:
        self.settings = settings
        writer = session
        if session is None:
            session = self._new_session(network_attempts=2)
            # pdpyras repeats any request after a network error, a POST too: a note whose answer timed out
            # would be written twice. Writes are tried once; the caller looks the note up before a retry.
            writer = self._new_session(network_attempts=0)
        assert writer is not None
        session.url = writer.url = settings.api_url.rstrip("/")
        self._session = session
        self._writer = writer

    def _new_session(self, *, network_attempts: int) -> pdpyras.APISession:
        if self.settings.api_token is None:
            raise ConnectorError("pagerduty.api_token is not set (SHERLOG__PAGERDUTY__API_TOKEN)")
        session = _session_class()(self.settings.api_token.get_secret_value(), default_from=self.settings.from_email)
        session.max_http_attempts = 3
        session.max_network_attempts = network_attempts
        session.sleep_timer = 0.5
        return session

    def _error(self, action: str, error: Exception) -> ConnectorError:
        status = getattr(getattr(error, "response", None), "status_code", None)
        hint = {
            401: " (check pagerduty.api_token)",
            403: " (the token lacks permission)",
            404: " (unknown id)",
        }
        detail = f"HTTP {status}{hint.get(status or 0, '')}" if status else str(error)
        return ConnectorError(f"PagerDuty at {self.settings.api_url} failed to {action}: {detail}")

    # ---- history ------------------------------------------------------------------------------

    def resolved_incidents(
        self, *, since: datetime, until: datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        """Resolved incidents created in ``[since, until)``, oldest window first."""
        end = until or datetime.now(UTC)
        start = since
        while start < end:
            stop = min(start + MAX_WINDOW, end)
            params = {
                "statuses[]": ["resolved"],
                "since": start.isoformat(),
                "until": stop.isoformat(),
                "sort_by": "created_at:asc",
                "time_zone": "UTC",
            }
            try:
                yield from self._session.iter_all("incidents", params=params)
            except Exception as e:
                raise self._error("list resolved incidents", e) from e
            start = stop

    def notes(self, incident_id: str) -> list[dict[str, Any]]:
        try:
            notes = self._session.rget(f"incidents/{incident_id}/notes")
        except Exception as e:
            raise self._error(f"read the notes of incident {incident_id}", e) from e
        return list(notes) if isinstance(notes, list) else []

    def history_documents(self, *, since: datetime, until: datetime | None = None) -> Iterator[Document]:
        """Resolved incidents with their notes, as past-incident documents."""
        for incident in self.resolved_incidents(since=since, until=until):
            yield document_from_incident(incident, self.notes(str(incident["id"])))

    # ---- write-back ---------------------------------------------------------------------------

    def _require_from(self) -> None:
        if not (self._session.default_from or self.settings.from_email):
            raise ConnectorError("pagerduty.from_email is not set: PagerDuty needs a user's email to write")

    def add_note(self, incident_id: str, content: str) -> dict[str, Any]:
        """Add a note to an incident; returns the created note."""
        self._require_from()
        try:
            note = self._writer.rpost(f"incidents/{incident_id}/notes", json={"note": {"content": content}})
        except Exception as e:
            raise self._error(f"add a note to incident {incident_id}", e) from e
        logger.info("pagerduty note added", extra={"incident": incident_id})
        return dict(note) if isinstance(note, dict) else {}

    def _update(self, incident_id: str, body: dict[str, Any], action: str) -> dict[str, Any]:
        self._require_from()
        try:
            result = self._writer.rput(f"incidents/{incident_id}", json={"incident": body})
        except Exception as e:
            raise self._error(f"{action} incident {incident_id}", e) from e
        logger.info("pagerduty incident updated", extra={"incident": incident_id, "action": action})
        return dict(result) if isinstance(result, dict) else {}

    def acknowledge(self, incident_id: str) -> dict[str, Any]:
        return self._update(
            incident_id, {"type": "incident_reference", "status": "acknowledged"}, "acknowledge"
        )

    def resolve(self, incident_id: str, *, resolution: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "incident_reference", "status": "resolved"}
        if resolution:
            body["resolution"] = resolution
        return self._update(incident_id, body, "resolve")
