"""The Slack Web API client Sherlog uses: async, with bounded retries on rate limits and outages."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain import ConfigError
from config.settings import SlackSettings


def build_client(settings: SlackSettings, *, token: str | None = None) -> AsyncWebClient:
    """An ``AsyncWebClient`` on ``settings.api_url`` that honours ``Retry-After`` on 429 and retries 5xx.

    Retries are per call and bounded (``settings.max_retries``); a chat outage past them surfaces as
    ``SlackApiError``/``aiohttp`` errors that the poster turns into a pending post.
    """
    bot_token = token or (settings.bot_token.get_secret_value() if settings.bot_token else None)
    if not bot_token:
        raise ConfigError("slack.bot_token is not set (SHERLOG__SLACK__BOT_TOKEN, an xoxb- token)")
    client = AsyncWebClient(token=bot_token, base_url=settings.api_url, timeout=int(max(1, settings.timeout_s)))
    if settings.max_retries:
        client.retry_handlers.extend([
            AsyncRateLimitErrorRetryHandler(max_retry_count=settings.max_retries),
            AsyncServerErrorRetryHandler(max_retry_count=settings.max_retries),
            AsyncConnectionErrorRetryHandler(max_retry_count=settings.max_retries),
        ])
    return client
