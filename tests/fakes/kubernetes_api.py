"""A local stand-in for the Kubernetes API server (read paths of core/v1), answering in the API's JSON shape.

Serves ``GET /api/v1/namespaces/{ns}/pods/{name}``, ``.../pods/{name}/log`` (text) and
``.../events`` (an ``EventList``, filtered by ``fieldSelector=involvedObject.name=...``); anything else
is a 404 ``Status``, any other method a 405. Every request is recorded (method, path, query), so a test
can assert which reads were made and that nothing was written.

    with FakeKubernetes(pods={("shop", "checkout-abc"): pod}, events=[...], logs={...}) as kube:
        api = CoreV1Api(ApiClient(Configuration(host=kube.url)))
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_POD = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)$")
_LOG = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$")
_EVENTS = re.compile(r"^/api/v1/namespaces/([^/]+)/events$")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class FakeKubernetes:
    def __init__(self, *, pods: dict[tuple[str, str], dict[str, Any]] | None = None,
                 events: list[dict[str, Any]] | None = None,
                 previous_logs: dict[tuple[str, str, str], str] | None = None) -> None:
        self.pods = pods or {}
        self.events = events or []
        self.previous_logs = previous_logs or {}  # (namespace, pod, container) -> text
        self.requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, str, Any]:
        if m := _POD.match(path):
            pod = self.pods.get((m.group(1), m.group(2)))
            if pod is None:
                return 404, "json", status(404, "NotFound", f'pods "{m.group(2)}" not found')
            return 200, "json", pod
        if m := _LOG.match(path):
            container = query.get("container") or next(
                (c for (ns, p, c) in self.previous_logs if (ns, p) == (m.group(1), m.group(2))), "")
            text = self.previous_logs.get((m.group(1), m.group(2), container))
            if text is None or query.get("previous") != "true":
                return 400, "json", status(400, "BadRequest",
                                           f'previous terminated container "{container}" in pod not found')
            tail = int(query.get("tailLines") or 0)
            lines = text.splitlines()
            return 200, "text", "\n".join(lines[-tail:] if tail else lines) + "\n"
        if m := _EVENTS.match(path):
            wanted = (query.get("fieldSelector") or "").removeprefix("involvedObject.name=")
            items = [e for e in self.events if e["metadata"].get("namespace") == m.group(1)
                     and (not wanted or e["involvedObject"].get("name") == wanted)]
            return 200, "json", {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"},
                                 "items": items}
        return 404, "json", status(404, "NotFound", "the server could not find the requested resource")

    def __enter__(self) -> FakeKubernetes:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def _record(self) -> tuple[str, dict[str, str]]:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                fake.requests.append(Request(self.command, parts.path, query))
                return parts.path, query

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                path, query = self._record()
                code, kind, body = fake.answer(path, query)
                data = (json.dumps(body) if kind == "json" else body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json" if kind == "json" else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _refuse(self) -> None:
                self._record()
                data = json.dumps(status(405, "MethodNotAllowed", "read-only stand-in")).encode()
                self.send_response(405)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_PATCH = do_DELETE = _refuse  # noqa: N815 - stdlib names

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
