"""FastAPI dependencies: the app's services live on ``app.state`` (built by ``create_app``)."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

from bot.pipeline import Pipeline
from bot.storage import Store
from config.settings import Settings


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def get_store(request: Request) -> Store:
    """The database of this process, as the composition root built it (reports and the dashboard read it);
    503 when the app was built without one."""
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this process was built without a database")
    return store


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _presented_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-sherlog-token") or request.query_params.get("token")


def require_intake_token(request: Request) -> None:
    """Intake endpoints: when ``intake.token`` is set, the same token must come as bearer, header or ?token=."""
    settings = get_app_settings(request)
    expected = settings.intake.token.get_secret_value() if settings.intake.token else None
    if not expected:
        return
    presented = _presented_token(request)
    if not presented or not hmac.compare_digest(presented, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong intake token")
