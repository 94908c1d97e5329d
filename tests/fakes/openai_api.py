"""A local OpenAI-compatible HTTP server that plays recorded chat-completion responses.

Follows the documented ``POST /v1/chat/completions`` request/response shapes. Each request takes the
next queued ``Reply`` (or the default), records the request body, and answers with:
- ``content``: a normal completion whose message content is that text (JSON or anything malformed);
- ``status``: an HTTP error with an OpenAI-style error body;
- ``delay_s``: sleeps first (to trigger client timeouts);
- ``tool_calls``: ``(name, arguments)`` pairs the assistant message asks for (``finish_reason``
  ``tool_calls``); ``arguments`` is sent as given when a string (malformed JSON on purpose), else dumped.
Every completion carries ``usage`` with the reply's ``prompt_tokens`` and ``completion_tokens``.

Usage::

    with FakeOpenAI() as fake:
        fake.queue(Reply(content='{"hypotheses": []}'))
        client = LLMReasoner(LLMSettings(base_url=fake.base_url, ...))
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None
    status: int = 200
    delay_s: float = 0.0
    prompt_tokens: int = 420
    completion_tokens: int = 80
    tool_calls: list[tuple[str, Any]] | None = None


class FakeOpenAI:
    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply(content='{"hypotheses": [], "summary": ""}')
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def _next(self) -> Reply:
        with self._lock:
            return self.replies.popleft() if self.replies else self.default

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    fake.paths.append(self.path)
                # /v1/chat/completions (OpenAI, vLLM, ...) or /openai/deployments/<name>/chat/completions (Azure)
                if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                reply = fake._next()
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "recorded failure", "type": "server_error",
                                                        "code": None}})
                    return
                message: dict[str, Any] = {"role": "assistant", "content": reply.content}
                if reply.tool_calls:
                    message["tool_calls"] = [
                        {"id": f"call_{len(fake.requests)}_{n}", "type": "function",
                         "function": {"name": name,
                                      "arguments": args if isinstance(args, str) else json.dumps(args)}}
                        for n, (name, args) in enumerate(reply.tool_calls)]
                self._send(200, {
                    "id": f"chatcmpl-fake{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    }],
                    "usage": {
                        "prompt_tokens": reply.prompt_tokens,
                        "completion_tokens": reply.completion_tokens,
                        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                    },
                })

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def user_prompt(self, index: int = -1) -> str:
        messages = self.requests[index]["messages"]
        return str(next(m["content"] for m in messages if m["role"] == "user"))
