"""A local stand-in for the PagerDuty REST API v2, for tests.

It follows the documented shapes of https://developer.pagerduty.com/api-reference/:

- authentication: ``Authorization: Token token=<key>``; a wrong key gets HTTP 401
  ``{"error": {"message": "Unauthorized", "code": 2006}}``;
- ``GET /incidents`` with ``statuses[]``, ``since``, ``until``, ``limit``, ``offset`` (classic
  pagination: ``{"incidents": [...], "limit", "offset", "more", "total"}``); the API refuses a
  ``since``..``until`` range longer than 6 months (HTTP 400), so clients must window;
- ``GET /incidents/{id}/notes`` -> ``{"notes": [...]}``;
- ``POST /incidents/{id}/notes`` with ``{"note": {"content"}}`` -> 201 ``{"note": {...}}``;
- ``PUT /incidents/{id}`` with ``{"incident": {"type": "incident_reference", "status", "resolution"?}}``
  -> ``{"incident": {...}}``;
- ``outage`` answers every call 503; ``write_delay_s`` stores a note and answers that much later (a client
  that times out never learns that its note was written);
- writes need a ``From`` header with a user's email (HTTP 400 otherwise); unknown ids get 404.

Usage::

    with PagerDutyAPI(token="pd-test") as pd:
        pd.add_incident(incident("P1", "DB pool exhausted", created_at=...), notes=["restarted pods"])
        connector = PagerDutyConnector(PagerDutySettings(api_token="pd-test", api_url=pd.url, ...))
        assert pd.calls_to("GET", "/incidents")
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_RANGE = timedelta(days=183)


@dataclass(frozen=True)
class PagerDutyCall:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


def incident(
    incident_id: str,
    title: str,
    *,
    created_at: datetime,
    status: str = "resolved",
    service: str = "checkout",
    urgency: str = "high",
    description: str | None = None,
    number: int = 1,
) -> dict[str, Any]:
    """An incident object as the API returns it."""
    return {
        "id": incident_id,
        "type": "incident",
        "summary": f"[#{number}] {title}",
        "self": f"https://api.pagerduty.com/incidents/{incident_id}",
        "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
        "incident_number": number,
        "title": title,
        "description": description or title,
        "created_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": status,
        "incident_key": f"key-{incident_id}",
        "service": {
            "id": f"PSVC{service.upper()[:6]}",
            "type": "service_reference",
            "summary": service,
            "self": "https://api.pagerduty.com/services/PSVC",
            "html_url": "https://acme.pagerduty.com/services/PSVC",
        },
        "assignments": [],
        "acknowledgements": [],
        "last_status_change_at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "urgency": urgency,
        "priority": None,
        "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference", "summary": "Default"},
        "teams": [],
    }


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class PagerDutyAPI:
    """Threaded HTTP server on 127.0.0.1:0 serving seeded incidents and recording every call."""

    def __init__(self, *, token: str = "pd-test-token") -> None:
        self.token = token
        self.incidents: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[PagerDutyCall] = []
        self.outage = False  # every call answers 503, as during a PagerDuty outage
        self.write_delay_s = 0.0  # a note is stored, then its answer comes this late (a client's timeout loses it)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> PagerDutyAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ---- seeding and assertions -------------------------------------------------------------

    def add_incident(self, data: dict[str, Any], *, notes: list[str] = ()) -> None:  # type: ignore[assignment]
        with self._lock:
            self.incidents[data["id"]] = data
            created = _time(data["created_at"])
            self.notes[data["id"]] = [
                self._note(text, created + timedelta(minutes=10 * (i + 1))) for i, text in enumerate(notes)
            ]

    def _note(self, content: str, when: datetime) -> dict[str, Any]:
        return {
            "id": f"PNOTE{next(self._ids)}",
            "user": {"id": "PUSER1", "type": "user_reference", "summary": "On Call"},
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": content,
            "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def calls_to(self, method: str, path_prefix: str) -> list[PagerDutyCall]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    # ---- HTTP ---------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, message: str, code: int, errors: list[str] | None = None) -> None:
                self._send(status, {"error": {"message": message, "code": code, "errors": errors or []}})

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                query = parse_qs(parts.query)
                with api._lock:
                    api.calls.append(
                        PagerDutyCall(method, parts.path, query, dict(self.headers.items()), body)
                    )
                if api.outage:
                    return self._error(503, "Service Unavailable", 2000)
                if self.headers.get("Authorization") != f"Token token={api.token}":
                    return self._error(401, "Unauthorized", 2006)
                segments = [s for s in parts.path.split("/") if s]
                if method == "GET" and segments == ["incidents"]:
                    return self._list(query)
                if len(segments) == 3 and segments[0] == "incidents" and segments[2] == "notes":
                    return self._notes(method, segments[1], body)
                if method == "PUT" and len(segments) == 2 and segments[0] == "incidents":
                    return self._update(segments[1], body)
                return self._error(404, "Not Found", 2100)

            def _list(self, query: dict[str, list[str]]) -> None:
                statuses = set(query.get("statuses[]", []))
                until = _time(query["until"][0]) if "until" in query else datetime.now(UTC)
                since = _time(query["since"][0]) if "since" in query else until - timedelta(days=30)
                if until - since > MAX_RANGE:
                    return self._error(
                        400, "Invalid Input Provided", 2001, ["Date range must be at most 6 months"]
                    )
                limit = int(query.get("limit", ["25"])[0])
                offset = int(query.get("offset", ["0"])[0])
                with api._lock:
                    rows = [
                        i
                        for i in api.incidents.values()
                        if (not statuses or i["status"] in statuses)
                        and since <= _time(i["created_at"]) < until
                    ]
                rows.sort(key=lambda i: i["created_at"])
                page = rows[offset : offset + limit]
                self._send(
                    200,
                    {
                        "incidents": page,
                        "limit": limit,
                        "offset": offset,
                        "more": offset + limit < len(rows),
                        "total": None,
                    },
                )

            def _need_from(self) -> bool:
                if "@" in (self.headers.get("From") or ""):
                    return True
                self._error(
                    400,
                    "Invalid Input Provided",
                    2001,
                    ['You must specify a user\'s email address in the "From" header to perform this action'],
                )
                return False

            def _notes(self, method: str, incident_id: str, body: Any) -> None:
                if incident_id not in api.incidents:
                    return self._error(404, "Not Found", 2100)
                if method == "GET":
                    with api._lock:
                        return self._send(200, {"notes": list(api.notes[incident_id])})
                if method == "POST":
                    if not self._need_from():
                        return None
                    content = (
                        ((body or {}).get("note") or {}).get("content") if isinstance(body, dict) else None
                    )
                    if not content:
                        return self._error(
                            400, "Invalid Input Provided", 2001, ["Note content can't be blank"]
                        )
                    with api._lock:
                        note = api._note(content, datetime.now(UTC))
                        api.notes[incident_id].append(note)
                    time.sleep(api.write_delay_s)
                    return self._send(201, {"note": note})
                return self._error(405, "Method Not Allowed", 2000)

            def _update(self, incident_id: str, body: Any) -> None:
                if incident_id not in api.incidents:
                    return self._error(404, "Not Found", 2100)
                if not self._need_from():
                    return None
                change = (body or {}).get("incident") if isinstance(body, dict) else None
                if not isinstance(change, dict) or change.get("type") not in {
                    "incident",
                    "incident_reference",
                }:
                    return self._error(
                        400, "Invalid Input Provided", 2001, ["Incident type must be incident_reference"]
                    )
                status = change.get("status")
                if status is not None and status not in {"acknowledged", "resolved"}:
                    return self._error(400, "Invalid Input Provided", 2001, [f"Status {status} is invalid"])
                with api._lock:
                    current = api.incidents[incident_id]
                    if status:
                        current["status"] = status
                    if change.get("resolution"):
                        current["resolution"] = change["resolution"]
                    return self._send(200, {"incident": dict(current)})

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._handle("PUT")

        return Handler


def webhook(event_type: str, data: dict[str, Any], *, occurred_at: datetime, event_id: str = "") -> dict[str, Any]:
    """A V3 webhook (``{"event": {...}}``) about an incident, as PagerDuty sends it to a subscription."""
    return {"event": {"id": event_id or uuid.uuid4().hex[:20].upper(),
                      "event_type": event_type, "resource_type": "incident",
                      "occurred_at": occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                      "agent": None, "client": None, "data": data}}
