"""Teams on the FastAPI app: ``POST /api/messages`` for the Bot Framework, and proactive incident cards.

Requests are authenticated before the body is decoded (``auth.precheck``: no bearer, not a JWT, not RS256
-> 401) and then by the SDK's own validation run off the event loop with ``teams.auth_timeout_s``
(``auth.validate``: a refused token -> 401, OpenID host unreachable or slow -> 503). With no ``app_id``
(local Bot Framework Emulator only) authentication is off, as the SDK documents.

Wiring: ``bot.surfaces.teams.routes`` in ``bot/api/registry.py`` ``ROUTER_MODULES``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import BotFrameworkAdapter, BotFrameworkAdapterSettings, TurnContext
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from bot.api.body import read_json_body
from bot.domain import Analysis, Incident
from bot.pipeline.service import Pipeline
from bot.storage import Store
from bot.surfaces.delivery import DeliveryScheduler
from bot.surfaces.teams.auth import TeamsAuthUnavailable, precheck, validate
from bot.surfaces.teams.bot import SherlogTeamsBot
from bot.surfaces.teams.notifier import TeamsNotifier
from config.settings import TeamsSettings

log = logging.getLogger(__name__)
router = APIRouter(tags=["teams"])
MAX_ACTIVITY_BYTES = 256 * 1024  # an activity with an Adaptive Card submit is a few KB


class TeamsSurface:
    def __init__(self, *, settings: TeamsSettings, pipeline: Pipeline, store: Store,
                 adapter: BotFrameworkAdapter | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.adapter = adapter or BotFrameworkAdapter(BotFrameworkAdapterSettings(
            app_id=settings.app_id or "",
            app_password=settings.app_password.get_secret_value() if settings.app_password else "",
            channel_auth_tenant=settings.tenant_id,
        ))
        self.adapter.on_turn_error = self._on_error
        self.bot = SherlogTeamsBot(settings=settings, pipeline=pipeline)
        self.notifier = TeamsNotifier(settings=settings, pipeline=pipeline, adapter=self.adapter, store=store)
        self.scheduler = DeliveryScheduler("teams")
        self._retry: asyncio.Task[None] | None = None

    @staticmethod
    async def _on_error(turn_context: TurnContext, error: Exception) -> None:
        log.error("teams turn failed", extra={"error": f"{error.__class__.__name__}: {error}"[:300]})
        await turn_context.send_activity("⚠️ Sherlog could not answer that; the error is in its log.")

    def subscribe(self) -> None:
        self.pipeline.events.subscribe("analysis.ready", self.on_analysis_ready)
        self.pipeline.events.subscribe("incident.acknowledged", self.on_lifecycle)
        self.pipeline.events.subscribe("incident.resolved", self.on_lifecycle)

    def on_analysis_ready(self, *, incident: Incident, analysis: Analysis, **_: Any) -> Any:
        return self.scheduler.schedule(lambda: self.notifier.deliver(incident, analysis))

    def on_lifecycle(self, *, incident: Incident, **_: Any) -> Any:
        """Ack/resolve update a card already posted; they never post a first card."""
        return self.scheduler.schedule(lambda: self.notifier.deliver(incident, None, update_only=True))

    async def drain(self) -> None:
        await self.scheduler.drain()

    async def start(self) -> None:
        self.scheduler.bind()
        self._retry = asyncio.get_running_loop().create_task(self.notifier.run_retry_loop(), name="teams-retry")

    async def stop(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            await asyncio.gather(self._retry, return_exceptions=True)
        await self.drain()


@router.post("/api/messages", include_in_schema=False)
async def messages(request: Request) -> Response:
    surface: TeamsSurface | None = getattr(request.app.state, "teams", None)
    if surface is None:
        raise HTTPException(404, "Teams is not enabled (teams.enabled)")
    auth_header = request.headers.get("Authorization", "")
    precheck(auth_header, auth_enabled=bool(surface.settings.app_id))  # 401 before the body is read
    if "application/json" not in request.headers.get("content-type", ""):
        raise HTTPException(415, "expected application/json")
    payload = await read_json_body(request, limit=MAX_ACTIVITY_BYTES)
    if not isinstance(payload, dict):
        raise HTTPException(400, "expected a Bot Framework activity (a JSON object)")
    try:
        activity = Activity().deserialize(payload)
    except Exception as e:  # noqa: BLE001 - msrest raises its own tree for a malformed activity
        raise HTTPException(400, f"not a Bot Framework activity: {e.__class__.__name__}") from e
    if surface.settings.app_id:
        try:
            identity = await validate(surface.adapter, activity, auth_header, timeout_s=surface.settings.auth_timeout_s)
        except TeamsAuthUnavailable as e:
            log.warning("teams token could not be validated", extra={"error": str(e)})
            raise HTTPException(503, "cannot validate the Bot Framework token now; retry later",
                                headers={"Retry-After": "30"}) from e
    else:
        identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
    invoke = await surface.adapter.process_activity_with_identity(activity, identity, surface.bot.on_turn)
    if invoke is not None:
        return JSONResponse(status_code=invoke.status, content=invoke.body)
    return Response(status_code=201)


def install(app: FastAPI) -> None:
    """Route ``/api/messages`` to the Teams surface the composition root built (``bot.pipeline.wiring``)."""
    app.state.teams = app.state.runtime.surfaces.get("teams")
