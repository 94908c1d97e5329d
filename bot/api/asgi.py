"""ASGI entry point for multi-worker servers: ``uvicorn bot.api.asgi:app --workers N``."""

from bot.api.app import create_app

app = create_app()
