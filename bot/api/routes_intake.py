"""Intake extras mounted beside the core ``POST /api/v1/alerts/{source}`` route.

``install(app)``:

- installs the webhook verifiers of the connectors that have one configured (``Connector.webhook_verifier``:
  PagerDuty's ``X-PagerDuty-Signature`` when ``pagerduty.webhook_secret`` is set). An HMAC is over the raw
  body, which the core route has consumed by the time a payload verifier runs, so the connector's ASGI
  middleware hashes the body as it streams past and its verifier reads the verdict;
- answers the core intake route through an ``IntakeCoalescer`` (group commit: concurrent deliveries share
  one transaction, each answered after its own alerts are committed).

Generic ``intake.mappings`` sources and write-back are wired for every role by ``bot.pipeline.wiring``.

``GET /api/v1/intake/sources`` lists the accepted sources and their URLs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status

from bot.api.deps import require_intake_token
from connectors.alerts import alert_sources
from connectors.plugins import WebhookVerifier
from connectors.registry import default_registry

log = logging.getLogger(__name__)
router = APIRouter()


def payload_verifier(verifier: WebhookVerifier) -> Callable[[Request, bytes], None]:
    """The core route's check of one source's webhooks: 401 with the connector's reason when it rejects."""

    def verify(request: Request, raw: bytes) -> None:
        reason = verifier.reject(request.scope)
        if reason is not None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, reason)

    return verify


def install(app: FastAPI) -> None:
    settings = app.state.settings  # mappings and write-back are wired by bot.pipeline.wiring for every role
    for name, verifier in default_registry().webhook_verifiers(settings).items():
        app.add_middleware(cast(Any, verifier.middleware), **verifier.options)
        app.state.payload_verifiers[name] = payload_verifier(verifier)
    from bot.pipeline.intake import IntakeCoalescer

    pipeline = app.state.pipeline
    if getattr(pipeline, "store", None) is not None:
        app.state.intake_coalescer = IntakeCoalescer(
            pipeline.accept_alert_batches)


@router.get("/api/v1/intake/sources", dependencies=[Depends(require_intake_token)])
async def sources(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"sources": [{"name": name, "url": f"{base}/api/v1/alerts/{name}"} for name in sorted(alert_sources())]}
