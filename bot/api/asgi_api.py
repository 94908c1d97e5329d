"""ASGI factory of the API role only (analyses in ``sherlog worker``, scheduled jobs in ``sherlog scheduler``):
``uvicorn --factory bot.api.asgi_api:api_app --workers N``."""

from fastapi import FastAPI

from bot.api.app import create_app
from bot.pipeline.wiring import Role


def api_app() -> FastAPI:
    return create_app(role=Role.API)
