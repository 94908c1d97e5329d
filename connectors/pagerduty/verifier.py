"""PagerDuty's webhook signature check (``pagerduty.webhook_secret``): ``X-PagerDuty-Signature`` is an HMAC-SHA256
of the raw body (``v1=<hex>``, several during a secret rotation), checked before the payload is parsed."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from connectors.plugins import WebhookVerifier

log = logging.getLogger(__name__)

PATH = "/api/v1/alerts/pagerduty"
VERDICT = "pagerduty_signature_ok"


class PagerDutySignatureMiddleware:
    """ASGI middleware: HMAC-SHA256 of the body of PagerDuty webhooks, computed while it streams to the route
    (which has consumed the body by the time a verifier runs); the verdict goes to ``scope["state"]``."""

    def __init__(self, app: Any, *, secret: str, path: str = PATH) -> None:
        self.app = app
        self.secret = secret.encode("utf-8")
        self.path = path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        mac = hmac.new(self.secret, b"", hashlib.sha256)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        presented = headers.get("x-pagerduty-signature", "")
        state = scope.setdefault("state", {})
        state[VERDICT] = False

        async def hashing_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                mac.update(message.get("body", b""))
                if not message.get("more_body", False):
                    expected = "v1=" + mac.hexdigest()
                    state[VERDICT] = any(hmac.compare_digest(p.strip(), expected) for p in presented.split(","))
            return message

        await self.app(scope, hashing_receive, send)


def reject(scope: Mapping[str, Any]) -> str | None:
    if scope.get("state", {}).get(VERDICT, False):
        return None
    log.warning("pagerduty webhook with a missing or wrong signature rejected")
    return "X-PagerDuty-Signature missing or wrong: check pagerduty.webhook_secret"


def webhook_verifier(settings: Any) -> WebhookVerifier | None:
    secret = settings.pagerduty.webhook_secret
    if secret is None or not secret.get_secret_value():
        return None
    return WebhookVerifier(middleware=PagerDutySignatureMiddleware, options={"secret": secret.get_secret_value()},
                           reject=reject)
