"""ASGI entry point for multi-worker servers: ``uvicorn bot.api.asgi:app --workers N`` (every role in each
process). The API role alone: ``uvicorn --factory bot.api.asgi_api:api_app``."""

from bot.api.app import create_app

app = create_app()
