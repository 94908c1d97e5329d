"""A local stand-in for the Opsgenie Alert API v2, for tests.

It follows the documented shapes of https://docs.opsgenie.com/docs/alert-api:

- authentication: ``Authorization: GenieKey <key>``; a wrong key gets HTTP 401
  ``{"message": "Could not authenticate", "took", "requestId"}``;
- ``GET /v2/alerts?query=&offset=&limit=&sort=&order=`` -> ``{"data": [alert...], "paging": {...},
  "took", "requestId"}`` (camelCase fields; ``offset + limit`` above 20,000 is refused). The query
  language subset understood here: ``status: open|closed`` and ``createdAt >=|>|<=|< <epoch ms>``
  joined by ``AND``; anything else is answered 422 so a client cannot rely on an unchecked query;
- ``GET /v2/alerts/{id}?identifierType=id`` -> ``{"data": {... "description", "details"}}``;
- ``GET /v2/alerts/{id}/notes`` -> ``{"data": [{"note", "owner", "createdAt", "offset"}], "paging"}``;
- ``POST /v2/alerts/{id}/notes|acknowledge|close`` -> 202 ``{"result": "Request will be processed",
  "took", "requestId"}`` (applied at once here);
- ``outage`` answers every call 503; ``write_delay_s`` applies a write and answers that much later.

Usage::

    with OpsgenieAPI(key="og-test") as og:
        og.add_alert(alert("a1", "DB pool exhausted", created_at=..., status="closed"), notes=["restarted"])
        connector = OpsgenieConnector(OpsgenieSettings(api_key="og-test", api_url=og.url))
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_TERM = re.compile(r"^\s*(?:status\s*:\s*(open|closed)|createdAt\s*(>=|>|<=|<)\s*(\d+))\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class OpsgenieCall:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def alert(
    alert_id: str,
    message: str,
    *,
    created_at: datetime,
    status: str = "closed",
    description: str = "",
    tags: list[str] | None = None,
    details: dict[str, str] | None = None,
    priority: str = "P2",
) -> dict[str, Any]:
    """An alert as ``GET /v2/alerts/{id}`` returns it."""
    return {
        "id": alert_id,
        "tinyId": str(abs(int(uuid.uuid5(uuid.NAMESPACE_DNS, alert_id).int)) % 10000),
        "alias": f"alias-{alert_id}",
        "message": message,
        "status": status,
        "acknowledged": status == "closed",
        "isSeen": True,
        "tags": tags or [],
        "snoozed": False,
        "count": 1,
        "lastOccurredAt": _iso(created_at),
        "createdAt": _iso(created_at),
        "updatedAt": _iso(created_at + timedelta(minutes=30)),
        "source": "prometheus",
        "owner": "oncall@acme.test",
        "priority": priority,
        "responders": [{"type": "team", "id": "team-1"}],
        "integration": {"id": "int-1", "name": "Prometheus", "type": "Prometheus"},
        "report": {"ackTime": 60000, "closeTime": 1800000, "acknowledgedBy": "oncall", "closedBy": "oncall"},
        "actions": [],
        "entity": "",
        "description": description,
        "details": details or {},
    }


_SUMMARY_FIELDS = (
    "id",
    "tinyId",
    "alias",
    "message",
    "status",
    "acknowledged",
    "isSeen",
    "tags",
    "snoozed",
    "count",
    "lastOccurredAt",
    "createdAt",
    "updatedAt",
    "source",
    "owner",
    "priority",
    "responders",
    "integration",
    "report",
)


class OpsgenieAPI:
    """Threaded HTTP server on 127.0.0.1:0 serving seeded alerts and recording every call."""

    def __init__(self, *, key: str = "og-test-key") -> None:
        self.key = key
        self.alerts: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[OpsgenieCall] = []
        self.outage = False  # every call answers 503
        self.write_delay_s = 0.0  # a write is applied, then answered this late (a client's timeout loses it)
        self._lock = threading.Lock()
        self._offsets = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> OpsgenieAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_alert(self, data: dict[str, Any], *, notes: list[str] = ()) -> None:  # type: ignore[assignment]
        created = datetime.fromisoformat(data["createdAt"].replace("Z", "+00:00"))
        with self._lock:
            self.alerts[data["id"]] = data
            self.notes[data["id"]] = [
                self._note(text, "oncall@acme.test", created + timedelta(minutes=5 * (i + 1)))
                for i, text in enumerate(notes)
            ]

    def _note(self, text: str, owner: str, when: datetime) -> dict[str, Any]:
        return {"note": text, "owner": owner, "createdAt": _iso(when), "offset": str(next(self._offsets))}

    def calls_to(self, method: str, path_prefix: str) -> list[OpsgenieCall]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    def _matches(self, query: str) -> list[dict[str, Any]] | None:
        rows = list(self.alerts.values())
        if not query.strip():
            return rows
        for term in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE):
            m = _TERM.match(term)
            if m is None:
                return None
            if m.group(1):
                rows = [r for r in rows if r["status"] == m.group(1).lower()]
            else:
                op, ms = m.group(2), int(m.group(3))

                import operator

                compare = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}[op]
                rows = [r for r in rows if compare(_epoch_ms(r["createdAt"]), ms)]
        return rows

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _send(self, status: int, body: dict[str, Any]) -> None:
                body = {**body, "took": 0.01, "requestId": str(uuid.uuid4())}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
                        OpsgenieCall(method, parts.path, query, dict(self.headers.items()), body)
                    )
                if api.outage:
                    return self._send(503, {"message": "Service Unavailable"})
                if self.headers.get("Authorization") != f"GenieKey {api.key}":
                    return self._send(401, {"message": "Could not authenticate"})
                seg = [s for s in parts.path.split("/") if s]
                if seg[:2] != ["v2", "alerts"]:
                    return self._send(404, {"message": "Not found"})
                if method == "GET" and len(seg) == 2:
                    return self._list(query)
                if len(seg) >= 3 and query.get("identifierType", ["id"])[0] != "id":
                    return self._send(
                        422, {"message": "only identifierType=id is supported by this stand-in"}
                    )
                if len(seg) >= 3 and seg[2] not in api.alerts:
                    return self._send(404, {"message": "Alert does not exist"})
                if method == "GET" and len(seg) == 3:
                    with api._lock:
                        return self._send(200, {"data": dict(api.alerts[seg[2]])})
                if method == "GET" and len(seg) == 4 and seg[3] == "notes":
                    return self._list_notes(seg[2], query)
                if method == "POST" and len(seg) == 4 and seg[3] in {"notes", "acknowledge", "close"}:
                    return self._action(seg[2], seg[3], body if isinstance(body, dict) else {})
                return self._send(404, {"message": "Not found"})

            def _list(self, query: dict[str, list[str]]) -> None:
                offset = int(query.get("offset", ["0"])[0])
                limit = int(query.get("limit", ["20"])[0])
                if limit > 100 or offset + limit > 20000:
                    return self._send(
                        422, {"message": "limit must be at most 100 and offset + limit at most 20000"}
                    )
                with api._lock:
                    rows = api._matches(query.get("query", [""])[0])
                if rows is None:
                    return self._send(422, {"message": "Invalid query"})
                key = {"createdAt": "createdAt", "updatedAt": "updatedAt"}.get(
                    query.get("sort", ["createdAt"])[0], "createdAt"
                )
                rows.sort(key=lambda r: r[key], reverse=query.get("order", ["desc"])[0] == "desc")
                page = [{k: r[k] for k in _SUMMARY_FIELDS} for r in rows[offset : offset + limit]]
                paging = {"first": f"{api.url}/v2/alerts?offset=0&limit={limit}"}
                if offset + limit < len(rows):
                    paging["next"] = f"{api.url}/v2/alerts?offset={offset + limit}&limit={limit}"
                self._send(200, {"data": page, "paging": paging})

            def _list_notes(self, alert_id: str, query: dict[str, list[str]]) -> None:
                limit = int(query.get("limit", ["20"])[0])
                after = int(query.get("offset", ["0"])[0] or 0)
                with api._lock:
                    notes = [n for n in api.notes[alert_id] if int(n["offset"]) > after]
                if query.get("order", ["desc"])[0] == "desc":
                    notes.reverse()
                page = notes[:limit]
                paging: dict[str, str] = {"first": f"{api.url}/v2/alerts/{alert_id}/notes"}
                if len(notes) > limit:
                    paging["next"] = f"{api.url}/v2/alerts/{alert_id}/notes?offset={page[-1]['offset']}"
                self._send(200, {"data": page, "paging": paging})

            def _action(self, alert_id: str, action: str, body: dict[str, Any]) -> None:
                with api._lock:
                    current = api.alerts[alert_id]
                    if action == "notes":
                        if not body.get("note"):
                            return self._send(422, {"message": "note is required"})
                        api.notes[alert_id].append(
                            api._note(body["note"], body.get("user") or "api", datetime.now(UTC))
                        )
                    elif action == "acknowledge":
                        current["acknowledged"] = True
                    else:
                        current["status"] = "closed"
                    if action != "notes" and body.get("note"):
                        api.notes[alert_id].append(
                            api._note(body["note"], body.get("user") or "api", datetime.now(UTC))
                        )
                time.sleep(api.write_delay_s)
                self._send(202, {"result": "Request will be processed"})

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        return Handler
