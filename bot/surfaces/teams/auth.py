"""Bot Framework authentication of ``POST /api/messages``, before the body is trusted and off the event loop.

botbuilder validates the JWT in ``Authorization`` itself, but fetches the OpenID metadata and signing keys
with a blocking ``requests.get`` that has no timeout, on whatever thread awaits it. So:

- ``precheck`` refuses, without reading the body or touching the network, what can never be a Bot
  Framework token: no header, not ``Bearer``, not three JWT segments, or an algorithm other than RS256
  (``alg=none`` and HS256 tokens are 401);
- ``validate`` runs botbuilder's own validation (issuers, audience, endorsements, service URL; the SDK
  caches the keys for a day) on a worker thread with a time limit: an unreachable or hanging OpenID host
  answers 503, a token it rejects 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from botbuilder.core import BotFrameworkAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ClaimsIdentity, JwtTokenValidation
from fastapi import HTTPException

log = logging.getLogger(__name__)
T = TypeVar("T")

ALLOWED_ALGORITHMS = frozenset({"RS256"})  # what the Bot Framework and Azure AD sign channel tokens with


class TeamsAuthUnavailable(Exception):
    """The token could not be checked (OpenID host unreachable or too slow)."""


def _unauthorized(reason: str) -> HTTPException:
    log.warning("teams request refused", extra={"reason": reason})
    return HTTPException(401, "Bot Framework authentication failed", headers={"WWW-Authenticate": "Bearer"})


def _jwt_header(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) else None


def precheck(auth_header: str, *, auth_enabled: bool) -> None:
    """Raise 401 for a header that cannot hold a Bot Framework token (no body read, no network)."""
    if not auth_enabled:
        return  # no teams.app_id: the local Emulator mode botbuilder documents, authentication off
    scheme, _, token = auth_header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("no bearer token")
    header = _jwt_header(token.strip())
    if header is None:
        raise _unauthorized("not a JWT")
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise _unauthorized(f"algorithm {str(header.get('alg'))[:20]!r} not accepted")


def _validate_blocking(adapter: BotFrameworkAdapter, activity: Activity, auth_header: str) -> ClaimsIdentity:
    async def run() -> ClaimsIdentity:
        return await JwtTokenValidation.authenticate_request(
            activity, auth_header, adapter._credential_provider,
            await adapter.settings.channel_provider.get_channel_service() if adapter.settings.channel_provider
            else "", adapter.settings.auth_configuration)

    return asyncio.run(run())  # botbuilder's coroutine does blocking I/O: its own loop, on this worker thread


_IN_FLIGHT = threading.BoundedSemaphore(8)  # validations stuck on a hanging host: at most this many threads


def _in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """Run ``fn`` on a daemon thread of its own: a call stuck on a hanging host (no timeout in the SDK) then
    never holds a pool worker nor the loop's shutdown; ``_IN_FLIGHT`` bounds how many can be stuck."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    if not _IN_FLIGHT.acquire(blocking=False):
        future.set_exception(TimeoutError("too many token validations in flight"))
        return future

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = fn(), None
        except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
            result, error = None, e
        finally:
            _IN_FLIGHT.release()
        if not loop.is_closed():
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="teams-token-validation", daemon=True).start()
    return future


async def validate(adapter: BotFrameworkAdapter, activity: Activity, auth_header: str, *,
                   timeout_s: float) -> ClaimsIdentity:
    """The caller's identity; 401 when the token is refused, ``TeamsAuthUnavailable`` when it cannot be checked."""
    try:
        identity = await asyncio.wait_for(
            _in_daemon_thread(lambda: _validate_blocking(adapter, activity, auth_header)), timeout=timeout_s)
    except TimeoutError as e:
        raise TeamsAuthUnavailable(f"token validation took over {timeout_s:g} s") from e
    except OSError as e:  # requests' ConnectionError/Timeout are OSErrors: the OpenID host is unreachable
        raise TeamsAuthUnavailable(f"OpenID metadata unreachable: {e.__class__.__name__}") from e
    except Exception as e:  # noqa: BLE001 - PermissionError, jwt errors, malformed claims: a refused token
        raise _unauthorized(f"{e.__class__.__name__}: {str(e)[:120]}") from e
    if not identity.is_authenticated:
        raise _unauthorized("not authenticated")
    return identity
