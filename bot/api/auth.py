"""Access to the dashboard and the API: API tokens, login sessions, read-only and admin roles.

- ``auth.admin_token``: full access (reads, feedback, acknowledge, resolve, re-analysis).
- ``auth.read_token``: read-only (dashboard, reports, incidents).
- API clients send ``Authorization: Bearer <token>`` or ``X-Sherlog-Token: <token>``.
- Browsers log in at ``/login`` with a token and get a signed, HttpOnly, SameSite=Strict cookie
  (``sherlog_session``) that expires after ``auth.session_hours``; it is signed with
  ``auth.session_secret`` or, when unset, a key derived from the tokens (changing a token logs
  everybody out).
- First run, no token configured: loopback clients (127.0.0.1, ::1, in-process test clients) get
  admin access and every other client gets 403 with instructions to set
  ``SHERLOG__AUTH__ADMIN_TOKEN``. A reverse proxy on the same host looks like loopback: set a token
  before putting one in front. ``auth.open_on_loopback: false`` closes even loopback.

Alert intake (its own ``intake.token``), ``/healthz``, ``/readyz`` and ``/metrics`` are not behind
these checks.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from fastapi import HTTPException, Request, Response, status

from config.settings import AuthSettings, Settings

log = logging.getLogger(__name__)

Role = Literal["admin", "reader"]
COOKIE = "sherlog_session"
SETUP_HINT = (
    "Sherlog has no access token configured, so it only answers clients on this machine (loopback). "
    "Set SHERLOG__AUTH__ADMIN_TOKEN (and optionally SHERLOG__AUTH__READ_TOKEN for read-only users) "
    "or auth.admin_token in your config file, then restart."
)


@dataclass(frozen=True)
class Principal:
    role: Role
    via: Literal["token", "session", "loopback"]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _secret(value: object) -> str | None:
    text = value.get_secret_value() if value is not None and hasattr(value, "get_secret_value") else None
    return text or None


def tokens_configured(auth: AuthSettings) -> bool:
    return bool(_secret(auth.admin_token) or _secret(auth.read_token))


def role_for_token(auth: AuthSettings, presented: str | None) -> Role | None:
    """The role a presented token grants (constant-time comparisons), ``None`` when it grants nothing."""
    if not presented:
        return None
    admin, reader = _secret(auth.admin_token), _secret(auth.read_token)
    if admin and hmac.compare_digest(presented.encode(), admin.encode()):
        return "admin"
    if reader and hmac.compare_digest(presented.encode(), reader.encode()):
        return "reader"
    return None


def _signing_key(auth: AuthSettings) -> bytes:
    explicit = _secret(auth.session_secret)
    if explicit:
        return explicit.encode()
    material = "\0".join(["sherlog-session", _secret(auth.admin_token) or "", _secret(auth.read_token) or ""])
    return hashlib.sha256(material.encode()).digest()


def _sign(auth: AuthSettings, payload: str) -> str:
    return hmac.new(_signing_key(auth), payload.encode(), hashlib.sha256).hexdigest()


def make_session(auth: AuthSettings, role: Role, *, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + auth.session_hours * 3600)
    payload = f"{role}.{expires}"
    return f"{payload}.{_sign(auth, payload)}"


def read_session(auth: AuthSettings, value: str | None, *, now: float | None = None) -> Role | None:
    if not value or value.count(".") != 2:
        return None
    role, expires, signature = value.split(".")
    if role not in ("admin", "reader") or not expires.isdigit():
        return None
    if not hmac.compare_digest(signature, _sign(auth, f"{role}.{expires}")):
        return None
    if int(expires) < (now if now is not None else time.time()):
        return None
    return role  # type: ignore[return-value]


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    if host == "testclient":  # Starlette's in-process client; a socket peer is always an IP address
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-sherlog-token")


def principal_of(request: Request) -> Principal | None:
    """Who is asking, or ``None`` when the request carries no valid credential."""
    settings: Settings = request.app.state.settings
    auth = settings.auth
    if not tokens_configured(auth):
        return Principal(role="admin", via="loopback") if auth.open_on_loopback and is_loopback(request) else None
    role = role_for_token(auth, _presented(request))
    if role is not None:
        return Principal(role=role, via="token")
    role = read_session(auth, request.cookies.get(COOKIE))
    if role is not None:
        return Principal(role=role, via="session")
    return None


def _refuse(request: Request) -> HTTPException:
    settings: Settings = request.app.state.settings
    if not tokens_configured(settings.auth):
        return HTTPException(status.HTTP_403_FORBIDDEN, SETUP_HINT)
    return HTTPException(status.HTTP_401_UNAUTHORIZED,
                         "log in at /login, or send 'Authorization: Bearer <token>' (auth.read_token or auth.admin_token)",
                         headers={"WWW-Authenticate": "Bearer"})


def require_reader(request: Request) -> Principal:
    """FastAPI dependency: any valid credential (read-only or admin)."""
    principal = principal_of(request)
    if principal is None:
        raise _refuse(request)
    request.state.principal = principal
    return principal


def require_admin(request: Request) -> Principal:
    """FastAPI dependency: an admin credential; a read-only one gets 403."""
    principal = require_reader(request)
    if not principal.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs the admin role (auth.admin_token)")
    return principal


def require_page_reader(request: Request) -> Principal:
    """Like ``require_reader`` for HTML pages: a browser without a session is sent to ``/login``."""
    principal = principal_of(request)
    if principal is not None:
        request.state.principal = principal
        return principal
    settings: Settings = request.app.state.settings
    if not tokens_configured(settings.auth):
        raise HTTPException(status.HTTP_403_FORBIDDEN, SETUP_HINT)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise HTTPException(status.HTTP_303_SEE_OTHER, "login required",
                        headers={"Location": f"/login?next={quote(target, safe='')}"})


def set_session_cookie(response: Response, settings: Settings, role: Role) -> None:
    response.set_cookie(COOKIE, make_session(settings.auth, role), max_age=int(settings.auth.session_hours * 3600),
                        httponly=True, samesite="strict", secure=settings.auth.cookie_secure, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def log_startup_mode(settings: Settings) -> None:
    if tokens_configured(settings.auth):
        log.info("dashboard and API require a token or a login session")
    elif settings.auth.open_on_loopback:
        log.warning("no auth token configured: dashboard and API answer loopback clients only; "
                    "set SHERLOG__AUTH__ADMIN_TOKEN before exposing Sherlog")
    else:
        log.warning("no auth token configured and open_on_loopback is false: dashboard and API refuse everyone")
