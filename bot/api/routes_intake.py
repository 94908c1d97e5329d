"""Intake extras mounted beside the core ``POST /api/v1/alerts/{source}`` route.

``install(app)``:

- verifies PagerDuty's ``X-PagerDuty-Signature`` when ``pagerduty.webhook_secret`` is set. The HMAC is
  over the raw body, which the core route has consumed by the time a payload verifier runs, so a small
  ASGI middleware hashes the body as it streams past and the verifier reads its verdict;
- answers the core intake route through an ``IntakeCoalescer`` (group commit: concurrent deliveries share
  one transaction, each answered after its own alerts are committed).

Generic ``intake.mappings`` sources and write-back are wired for every role by ``bot.pipeline.wiring``.

``GET /api/v1/intake/sources`` lists the accepted sources and their URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.deps import require_intake_token
from connectors.alerts import PARSERS

log = logging.getLogger(__name__)
router = APIRouter()

PAGERDUTY_PATH = "/api/v1/alerts/pagerduty"
_VERDICT = "pagerduty_signature_ok"


class PagerDutySignatureMiddleware:
    """Computes HMAC-SHA256 of the body of PagerDuty webhooks while it streams to the route."""

    def __init__(self, app: ASGIApp, *, secret: str, path: str = PAGERDUTY_PATH) -> None:
        self.app = app
        self.secret = secret.encode("utf-8")
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        mac = hmac.new(self.secret, b"", hashlib.sha256)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        presented = headers.get("x-pagerduty-signature", "")
        state = scope.setdefault("state", {})
        state[_VERDICT] = False

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                mac.update(message.get("body", b""))
                if not message.get("more_body", False):
                    expected = "v1=" + mac.hexdigest()
                    state[_VERDICT] = any(hmac.compare_digest(p.strip(), expected) for p in presented.split(","))
            return message

        await self.app(scope, hashing_receive, send)


def verify_pagerduty(request: Request, raw: bytes) -> None:
    if not request.scope.get("state", {}).get(_VERDICT, False):
        log.warning("pagerduty webhook with a missing or wrong signature rejected")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "X-PagerDuty-Signature missing or wrong: check pagerduty.webhook_secret")


def install(app: FastAPI) -> None:
    settings = app.state.settings  # mappings and write-back are wired by bot.pipeline.wiring for every role
    secret = settings.pagerduty.webhook_secret
    if secret is not None and secret.get_secret_value():
        app.add_middleware(PagerDutySignatureMiddleware, secret=secret.get_secret_value())
        app.state.payload_verifiers["pagerduty"] = verify_pagerduty
    from bot.pipeline.intake import IntakeCoalescer

    pipeline = app.state.pipeline
    if getattr(pipeline, "store", None) is not None:
        app.state.intake_coalescer = IntakeCoalescer(
            pipeline.accept_alert_batches)


@router.get("/api/v1/intake/sources", dependencies=[Depends(require_intake_token)])
async def sources(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"sources": [{"name": name, "url": f"{base}/api/v1/alerts/{name}"} for name in sorted(PARSERS)]}
