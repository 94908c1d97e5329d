"""Cross-cutting HTTP guards installed by ``create_app``.

- ``SecurityHeadersMiddleware``: Content-Security-Policy (scripts, styles and frames from this origin only;
  ``frame-ancestors 'none'``), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy`` on every response. ``/docs`` (Swagger UI from its CDN) gets the CDN added.
- ``BodyLimitMiddleware``: every request body is bounded (``DEFAULT_BODY_LIMIT``; alert intake has its own
  ``intake.max_body_bytes``): 413 from the declared length, or as soon as the stream passes it; a JSON body
  nested deeper than ``MAX_DEPTH`` is 422 before any route decodes it (except ``SELF_GUARDED`` routes, which
  authenticate first and then apply the same guard).
- ``LoginThrottle``: failed ``/login`` attempts per client, with an exponential back-off (429 + Retry-After).
- ``open_intake_note``: the warning (at start, and in ``/readyz``) when intake is open on a public address.
- ``storage_error_response``: a database error becomes a clean message; its text (table, column, driver)
  goes to the log only.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.auth import _refuse, principal_of
from bot.api.body import MAX_DEPTH, nesting_depth
from bot.domain import StorageError
from bot.storage.faults import is_content_error
from config.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_BODY_LIMIT = 1024 * 1024
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def open_intake_note(settings: Settings, bind_host: str | None) -> str | None:
    """A warning when anyone who reaches ``bind_host`` may post alerts and changes (no intake token)."""
    token = settings.intake.token.get_secret_value() if settings.intake.token else ""
    if token or bind_host is None or bind_host in _LOOPBACK or bind_host.startswith("127."):
        return None
    return (f"alert intake is open: no intake token is set and Sherlog listens on {bind_host}, so anyone who "
            "reaches it can post alerts and changes; set SHERLOG__INTAKE__TOKEN")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' "
            "'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope.get("path") == "/docs" else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {b"content-security-policy", b"x-frame-options"}]
                headers += [(b"content-security-policy", policy.encode()), (b"x-frame-options", b"DENY"),
                            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class AuthGateMiddleware:
    """The API's reader check before anything reads the body: FastAPI decodes a body before it runs a route's
    auth dependency, so an anonymous caller got 422 (and had its body parsed) where 401 is due. Paths under
    ``/api/v1/`` need a reader credential here (the route still checks the role); intake paths have their own
    token and are left to their route."""

    OPEN = ("/api/v1/alerts/", "/api/v1/changes", "/api/v1/intake/")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith("/api/v1/") and not path.startswith(self.OPEN):
            request = Request(scope)
            if principal_of(request) is None:
                error = _refuse(request)
                await _send_json(send, error.status_code, {"detail": error.detail}, headers=error.headers)
                return
        await self.app(scope, receive, send)


# routes that authenticate a request (intake token or signature, Bot Framework JWT, Slack signature) before
# decoding its body with their own nesting guard: the middleware must not read their body first
SELF_GUARDED = ("/api/v1/alerts/", "/api/messages", "/slack/events")


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default: int = DEFAULT_BODY_LIMIT, intake: int = DEFAULT_BODY_LIMIT,
                 intake_prefix: str = "/api/v1/alerts/") -> None:
        self.app = app
        self.default = default
        self.intake = intake
        self.intake_prefix = intake_prefix

    def _limit(self, path: str) -> int:
        return self.intake if path.startswith(self.intake_prefix) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        is_json = False
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                await _send_413(send, limit)
                return
            is_json = is_json or (key == b"content-type" and b"json" in value.lower())
        if is_json and not scope.get("path", "").startswith(SELF_GUARDED):  # those authenticate first
            await self._json(scope, receive, send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, limit)


    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """A JSON body is read whole (it is bounded) and its nesting measured before any route decodes it:
        FastAPI's own decoder raised RecursionError (a 500) on ``[[[[...`` 20,000 deep."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await _send_413(send, limit)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if nesting_depth(body) > MAX_DEPTH:
            await _send_json(send, 422, {"detail": f"body is nested more than {MAX_DEPTH} levels deep"})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect as the app expects
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _send_413(send: Send, limit: int) -> None:
    await _send_json(send, 413, {"detail": f"body over {limit} bytes"})


async def _send_json(send: Send, status: int, content: dict[str, Any],
                     headers: Mapping[str, str] | None = None) -> None:
    body = json.dumps(content).encode()
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0


class LoginThrottle:
    """``free`` failed logins per client, then each further failure doubles the wait (from ``base_s`` up to
    ``max_s``); a success clears the client. Memory is bounded by ``max_clients`` (oldest dropped)."""

    def __init__(self, *, free: int = 5, base_s: float = 1.0, max_s: float = 900.0, max_clients: int = 10_000,
                 clock: object = time.monotonic) -> None:
        self.free, self.base_s, self.max_s, self.max_clients = free, base_s, max_s, max_clients
        self._clock = clock
        self._clients: dict[str, _Failures] = {}

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def retry_after(self, client: str) -> int:
        """Seconds this client must wait before trying again (0: it may try now)."""
        state = self._clients.get(client)
        if state is None:
            return 0
        wait = state.blocked_until - self._now()
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, client: str) -> None:
        state = self._clients.pop(client, None) or _Failures()
        state.count += 1
        if state.count >= self.free:
            state.blocked_until = self._now() + min(self.max_s, self.base_s * 2 ** (state.count - self.free))
        self._clients[client] = state
        while len(self._clients) > self.max_clients:
            self._clients.pop(next(iter(self._clients)))

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)


def finite_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by its text (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def storage_error_response(error: StorageError) -> JSONResponse:
    """A clean answer for a database error; the database's own text stays in the log."""
    if is_content_error(error):
        log.warning("database refused a value", extra={"error": str(error)[:300]})
        return JSONResponse(status_code=422, content={
            "detail": "the database refused a value of this request (too long, out of range or an invalid "
                      "character); shorten or clean the fields and retry"})
    log.error("database error", extra={"error": str(error)[:300]})
    return JSONResponse(status_code=503, content={"detail": "the database is unavailable; retry later"},
                        headers={"Retry-After": "5"})
