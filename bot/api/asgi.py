"""ASGI entry points for multi-worker servers: ``uvicorn bot.api.asgi:app --workers N`` (every role in each
process), or ``uvicorn --factory bot.api.asgi:api_app`` (the API role only: analyses in ``sherlog worker``,
scheduled jobs in ``sherlog scheduler``)."""

from fastapi import FastAPI

from bot.api.app import create_app
from bot.pipeline.wiring import Role

app = create_app()


def api_app() -> FastAPI:
    return create_app(role=Role.API)
