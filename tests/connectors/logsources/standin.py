"""A tiny threaded HTTP server on 127.0.0.1 that plays a vendor's API in tests (no patching of our code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


@contextmanager
def serve(handler: Handler) -> Iterator[tuple[str, list[Request]]]:
    """Run ``handler`` behind an HTTP server; yields (base URL, the requests it received)."""
    seen: list[Request] = []

    class _H(BaseHTTPRequestHandler):
        def _do(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Request(self.command, url.path, parse_qs(url.query), {k.lower(): v for k, v in self.headers.items()},
                          self.rfile.read(length) if length else b"")
            seen.append(req)
            reply = handler(req)
            body = reply.body
            ctype = "application/json"
            if isinstance(body, dict | list):
                body = json.dumps(body).encode()
            elif isinstance(body, str):
                body = body.encode()
                ctype = "text/plain"
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.headers.pop("Content-Type", ctype))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _do

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
