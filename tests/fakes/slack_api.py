"""A local stand-in for the Slack Web API, for tests.

It follows the documented shapes of https://api.slack.com/methods: every method is
``POST|GET /api/<method>`` with a JSON, form-encoded or query-string body, and answers
``{"ok": true, ...}`` (HTTP 200) or ``{"ok": false, "error": "..."}``. It records every call so a test
can assert which methods were called with which arguments. It also accepts POSTs on ``/response/<id>``
(the ``response_url`` of slash commands and interactions) and records them as method ``"response_url"``.

Usage::

    with SlackAPI() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        assert slack.calls_to("chat.postMessage")[0].body["channel"] == "C123"

Scripted failures (for retry tests)::

    slack.fail_next("chat.postMessage", status=429, retry_after=1)   # rate limited once
    slack.fail_next("chat.postMessage", status=503, times=2)         # two server errors
    slack.fail_next("chat.update", error="message_not_found")        # ok=false, HTTP 200

Scripted slowness (for timing races): the next call is recorded as received, then processed (a posted
message appears in the history) only after a pause, as a request the client gave up on may still land::

    slack.delay_next("chat.postMessage", seconds=2)                  # lands 2 s after it was sent
    gate = slack.hold_next("conversations.history")                  # waits until gate.set()

``conversations.history`` pages with ``cursor`` / ``response_metadata.next_cursor`` as Slack does.

The server is a ``ThreadingHTTPServer`` on ``127.0.0.1:0`` running in a daemon thread; ``close()``
(or leaving the ``with`` block) shuts it down.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T0SHERLOG"
BOT_USER_ID = "U0SHERBOT"
BOT_ID = "B0SHERBOT"


@dataclass(frozen=True)
class SlackCall:
    """One request received by the stand-in."""

    method: str  # e.g. "chat.postMessage", or "response_url"
    http_verb: str
    path: str
    body: dict[str, Any]
    token: str | None
    headers: dict[str, str]
    at: float


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    times: int


@dataclass
class _Delay:
    release: threading.Event
    seconds: float


@dataclass
class _State:
    calls: list[SlackCall] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    delays: dict[str, list[_Delay]] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    socket_url: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    condition: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.condition = threading.Condition(self.lock)


_ts_counter = itertools.count(1)
_view_counter = itertools.count(1)


def _next_ts() -> str:
    return f"{int(time.time())}.{next(_ts_counter):06d}"


def _coerce_json_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Form-encoded requests carry ``blocks``/``attachments``/``view`` as JSON strings; decode them."""
    out = dict(body)
    for key in ("blocks", "attachments", "view", "metadata"):
        value = out.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            try:
                out[key] = json.loads(value)
            except ValueError:
                pass
    return out


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr access log
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._handle("POST")

    def _read_body(self, query: str) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw:
            if ctype == "application/json":
                parsed = json.loads(raw.decode("utf-8"))
                if isinstance(parsed, dict):
                    body.update(parsed)
                else:
                    body["_json"] = parsed
            elif ctype == "application/x-www-form-urlencoded":
                body.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            else:
                body["_raw"] = raw.decode("utf-8", "replace")
        return _coerce_json_fields(body)

    def _handle(self, verb: str) -> None:
        parts = urlsplit(self.path)
        body = self._read_body(parts.query)
        if parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :].strip("/")
        elif parts.path.startswith("/response/"):
            method = "response_url"
        else:
            self._send(404, {"ok": False, "error": "not_found"})
            return
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else body.get("token")
        state = self.server.state
        call = SlackCall(
            method=method,
            http_verb=verb,
            path=parts.path,
            body=body,
            token=token,
            headers={k.lower(): v for k, v in self.headers.items()},
            at=time.monotonic(),
        )
        with state.condition:
            state.calls.append(call)
            delays = state.delays.get(method)
            delay = delays.pop(0) if delays else None
            state.condition.notify_all()
        if delay is not None:  # processed late, whether or not the client still waits for the answer
            delay.release.wait(delay.seconds)
        with state.lock:
            failure = self._pop_failure(state, method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            if failure.status == 200:
                self._send(200, {"ok": False, "error": failure.error or "fatal_error"}, headers)
            else:
                default = "ratelimited" if failure.status == 429 else "service_unavailable"
                self._send(failure.status, {"ok": False, "error": failure.error or default}, headers)
            return
        if method == "response_url":
            self._send(200, {"ok": True}, content_type="text/plain", raw=b"ok")
            return
        if method != "auth.test" and method != "api.test" and not token:
            self._send(200, {"ok": False, "error": "not_authed"})
            return
        self._send(200, self.server.answer(method, body))

    @staticmethod
    def _pop_failure(state: _State, method: str) -> _Failure | None:
        queue = state.failures.get(method) or state.failures.get("*")
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _send(
        self,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        content_type: str = "application/json; charset=utf-8",
        raw: bytes | None = None,
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a scripted delay)
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: _State) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        if method in ("auth.test", "api.test"):
            return {
                "ok": True,
                "url": "https://sherlog-test.slack.com/",
                "team": "Sherlog Test",
                "user": "sherlog",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            channel = str(body.get("channel") or "")
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            ts = _next_ts()
            message = {
                "type": "message",
                "subtype": "bot_message",
                "text": body.get("text", ""),
                "ts": ts,
                "bot_id": BOT_ID,
                "user": BOT_USER_ID,
            }
            if "blocks" in body:
                message["blocks"] = body["blocks"]
            if body.get("thread_ts"):
                message["thread_ts"] = body["thread_ts"]
            if isinstance(body.get("metadata"), dict):  # message metadata, returned by conversations.history
                message["metadata"] = body["metadata"]
            with state.lock:
                state.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            channel, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
            with state.lock:
                existing = state.messages.get((channel, ts))
                if existing is None:
                    return {"ok": False, "error": "message_not_found"}
                existing.update({k: body[k] for k in ("text", "blocks") if k in body})
                message = dict(existing)
            return {"ok": True, "channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": _next_ts()}
        if method == "chat.getPermalink":
            channel, ts = str(body.get("channel") or ""), str(body.get("message_ts") or "")
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://sherlog-test.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            }
        if method == "views.open":
            view = body.get("view") if isinstance(body.get("view"), dict) else {}
            return {
                "ok": True,
                "view": {**view, "id": f"V{next(_view_counter):08d}", "team_id": TEAM_ID, "state": {"values": {}}},
            }
        if method == "conversations.info":
            channel = str(body.get("channel") or "")
            with state.lock:
                info = state.channels.get(channel)
            if info is None:
                info = {"id": channel, "name": channel.lower(), "is_channel": channel.startswith("C")}
                info["is_im"] = channel.startswith("D")
            return {"ok": True, "channel": info}
        if method == "users.info":
            user = str(body.get("user") or "")
            with state.lock:
                info = state.users.get(user)
            if info is None:
                info = {"id": user, "name": user.lower(), "real_name": f"User {user}", "profile": {"email": ""}}
            return {"ok": True, "user": info}
        if method == "conversations.history":
            # newest first; metadata only with include_all_metadata (as Slack does); thread replies are left out
            channel = str(body.get("channel") or "")
            oldest = float(body.get("oldest") or 0)
            limit = int(body.get("limit") or 100)
            offset = int(body.get("cursor") or 0)
            with_metadata = str(body.get("include_all_metadata", "")).lower() in ("true", "1")
            with state.lock:
                found = [dict(m) for (c, ts), m in state.messages.items()
                         if c == channel and float(ts) >= oldest and not m.get("thread_ts")]
            found.sort(key=lambda m: float(m["ts"]), reverse=True)
            if not with_metadata:
                for m in found:
                    m.pop("metadata", None)
            more = len(found) > offset + limit
            return {"ok": True, "messages": found[offset:offset + limit], "has_more": more,
                    "response_metadata": {"next_cursor": str(offset + limit) if more else ""}}
        if method == "conversations.replies":
            channel, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
            with state.lock:
                replies = [
                    m for (c, _), m in state.messages.items() if c == channel and (m["ts"] == ts or m.get("thread_ts") == ts)
                ]
            return {"ok": True, "messages": replies, "has_more": False}
        if method == "apps.connections.open":
            with state.lock:
                url = state.socket_url
            return {"ok": True, "url": url} if url else {"ok": False, "error": "socket_mode_not_enabled"}
        if method in ("reactions.add", "reactions.remove", "conversations.join"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


class SlackAPI:
    """The stand-in server. Start it with ``with SlackAPI() as slack`` or ``start()``/``close()``."""

    def __init__(self) -> None:
        self._state = _State()
        self._server = _Server(self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-api-standin", daemon=True)
        self._started = False

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> SlackAPI:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        if self._started:
            self._server.shutdown()
            self._started = False
        self._server.server_close()

    def __enter__(self) -> SlackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # addresses ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``WebClient``/``AsyncWebClient`` (ends with ``/api/``)."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "1") -> str:
        """A ``response_url`` for slash-command or interaction payloads; POSTs to it are recorded."""
        return f"{self.url}/response/{name}"

    # scripting ---------------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" for any) fail.

        ``status=429`` answers ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``;
        a 5xx status answers a server error; ``status=200`` with ``error`` answers ``ok: false``.
        """
        with self._state.lock:
            self._state.failures.setdefault(method, []).append(
                _Failure(status=status, error=error, retry_after=retry_after, times=times)
            )

    def delay_next(self, method: str, *, seconds: float, times: int = 1) -> None:
        """Process the next ``times`` calls of ``method`` only ``seconds`` after they arrive (each on its own)."""
        with self._state.lock:
            for _ in range(times):
                self._state.delays.setdefault(method, []).append(_Delay(threading.Event(), seconds))

    def hold_next(self, method: str, *, timeout: float = 60.0) -> threading.Event:
        """Hold the next call of ``method`` until the returned event is set (or ``timeout`` passes)."""
        release = threading.Event()
        with self._state.lock:
            self._state.delays.setdefault(method, []).append(_Delay(release, timeout))
        return release

    def set_socket_url(self, url: str) -> None:
        """The WebSocket URL ``apps.connections.open`` hands out (Socket Mode tests run their own server)."""
        with self._state.lock:
            self._state.socket_url = url

    def add_user(self, user_id: str, **fields: Any) -> None:
        with self._state.lock:
            self._state.users[user_id] = {"id": user_id, **fields}

    def add_channel(self, channel_id: str, **fields: Any) -> None:
        with self._state.lock:
            self._state.channels[channel_id] = {"id": channel_id, **fields}

    # inspection --------------------------------------------------------------------------------
    @property
    def calls(self) -> list[SlackCall]:
        with self._state.lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def methods(self, *, exclude: tuple[str, ...] = ("auth.test",)) -> list[str]:
        """The methods called, in order (``auth.test`` left out by default: Bolt calls it on its own)."""
        return [c.method for c in self.calls if c.method not in exclude]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The current state of a posted message (after any ``chat.update``)."""
        with self._state.lock:
            found = self._state.messages.get((channel, ts))
            return dict(found) if found is not None else None

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Block until at least ``count`` calls of ``method`` arrived; raise ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._state.condition:
            while True:
                found = [c for c in self._state.calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} call(s) to {method}, got {len(found)}")
                self._state.condition.wait(remaining)

    def reset(self) -> None:
        """Forget recorded calls and scripted failures (posted messages are kept)."""
        with self._state.lock:
            self._state.calls.clear()
            self._state.failures.clear()
            self._state.delays.clear()
