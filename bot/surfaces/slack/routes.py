"""Slack on the FastAPI app: ``POST /slack/events`` (Events API, slash commands and interactivity all use
this one Request URL), the auto-post subscriptions and the retry loop for posts that failed.

Wiring: ``bot.surfaces.slack.routes`` in ``bot/api/registry.py`` ``ROUTER_MODULES``. With
``slack.enabled: false`` nothing is subscribed and the endpoint answers 404.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import Analysis, ConfigError, Incident
from bot.pipeline.service import Pipeline
from bot.storage import Store
from bot.surfaces.delivery import DeliveryScheduler
from bot.surfaces.slack.app import build_slack_app
from bot.surfaces.slack.client import build_client
from bot.surfaces.slack.poster import SlackPoster
from config.settings import SlackSettings

log = logging.getLogger(__name__)
router = APIRouter(tags=["slack"])


class SlackSurface:
    """Everything Slack needs at run time, on ``app.state.slack``."""

    def __init__(self, *, settings: SlackSettings, pipeline: Pipeline, store: Store,
                 client: AsyncWebClient | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.client = client or build_client(settings)
        self.poster = SlackPoster(settings=settings, pipeline=pipeline, client=self.client, store=store)
        self.bolt: AsyncApp = build_slack_app(settings=settings, pipeline=pipeline, client=self.client,
                                              poster=self.poster)
        self.handler = AsyncSlackRequestHandler(self.bolt)
        self.scheduler = DeliveryScheduler("slack")
        self._retry_task: asyncio.Task[None] | None = None
        self.socket: Any = None  # AsyncSocketModeHandler when slack.socket_mode

    def subscribe(self) -> None:
        events = self.pipeline.events
        events.subscribe("analysis.ready", self.on_analysis_ready)
        events.subscribe("incident.acknowledged", self.on_lifecycle)
        events.subscribe("incident.resolved", self.on_lifecycle)

    # event handlers: called from the analysis worker thread or the loop; never block either
    def on_analysis_ready(self, *, incident: Incident, analysis: Analysis, **_: Any) -> Any:
        return self._schedule(lambda: self.poster.deliver(incident, analysis))

    def on_lifecycle(self, *, incident: Incident, user: str | None = None, **_: Any) -> Any:
        return self._schedule(lambda: self.poster.on_lifecycle(incident, user=user))

    def _schedule(self, make: Callable[[], Awaitable[Any]]) -> Any:
        return self.scheduler.schedule(make)  # the outbox relay waits for it

    async def drain(self) -> None:
        """Wait until every scheduled post and update finished (tests, shutdown)."""
        await self.scheduler.drain()

    async def start(self, *, receive: bool = True) -> None:
        """Deliveries and their retry loop; ``receive`` (the API roles) also opens Socket Mode when set."""
        self.scheduler.bind()
        self._retry_task = asyncio.get_running_loop().create_task(self.poster.run_retry_loop(), name="slack-retry")
        if receive and self.settings.socket_mode:
            await self.start_socket_mode()

    async def start_socket_mode(self) -> None:
        """Receive events, commands and clicks over Slack's WebSocket instead of ``/slack/events``."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        if self.settings.app_token is None:
            raise ConfigError("slack.socket_mode needs slack.app_token (SHERLOG__SLACK__APP_TOKEN, an xapp- token "
                              "with the connections:write scope)")
        self.socket = AsyncSocketModeHandler(self.bolt, self.settings.app_token.get_secret_value(),
                                             web_client=self.client)
        await self.socket.connect_async()
        log.info("slack socket mode connected")

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None
        if self._retry_task is not None:
            self._retry_task.cancel()
            await asyncio.gather(self._retry_task, return_exceptions=True)
        await self.drain()


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    surface: SlackSurface | None = getattr(request.app.state, "slack", None)
    if surface is None:
        raise HTTPException(404, "Slack is not enabled (slack.enabled)")
    if surface.settings.socket_mode:  # events come over the WebSocket; never take unsigned HTTP ones
        raise HTTPException(404, "Slack uses Socket Mode here (slack.socket_mode)")
    _check_signature_headers(request, surface.settings)  # before Bolt reads the body
    if request.headers.get("x-slack-retry-reason") == "http_timeout" and request.headers.get("x-slack-retry-num"):
        # Slack re-sends an event it thinks timed out; the first delivery did arrive and is being handled.
        # (Other retry reasons mean the first one failed, so those are processed.)
        return Response(status_code=200, headers={"X-Slack-No-Retry": "1"})
    return await surface.handler.handle(request)


MAX_EVENT_BYTES = 1024 * 1024  # Slack's events, commands and interactions are a few KB


def _check_signature_headers(request: Request, settings: SlackSettings) -> None:
    """401 for a request whose signature headers cannot be valid (Bolt's verifier raised ValueError on a
    non-numeric ``X-Slack-Request-Timestamp``: a 500); 413 for a body Slack never sends."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_EVENT_BYTES:
        raise HTTPException(413, f"body over {MAX_EVENT_BYTES} bytes")
    if settings.signing_secret is None:
        return  # verification is off by configuration (tests, a proxy that verifies); Bolt decides
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature.startswith("v0="):
        log.warning("slack request with missing or malformed signature headers refused")
        raise HTTPException(401, "missing or malformed X-Slack-Request-Timestamp / X-Slack-Signature")


def install(app: FastAPI) -> None:
    """Route ``/slack/events`` to the Slack surface the composition root built (``bot.pipeline.wiring``);
    with ``slack.enabled: false`` there is none and the endpoint answers 404."""
    app.state.slack = app.state.runtime.surfaces.get("slack")
