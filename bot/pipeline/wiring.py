"""Build the pipeline from settings: the embedded defaults, or real services when configured."""

from __future__ import annotations

import logging

from bot.pipeline.events import EventBus
from bot.pipeline.metrics import PipelineMetrics
from bot.pipeline.service import Pipeline
from bot.storage import Store
from config.settings import Settings

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url, schema=settings.storage.schema_name, echo=settings.storage.echo)


def build_pipeline(settings: Settings, *, store: Store | None = None, with_retriever: bool = True) -> Pipeline:
    from retrieval import Retriever

    store = store or open_store(settings)
    retriever = Retriever.from_settings(settings) if with_retriever else None
    llm = None
    if settings.llm.enabled:
        from bot.reasoning.llm import LLMReasoner

        llm = LLMReasoner(settings.llm)
    return Pipeline(settings=settings, store=store, retriever=retriever, events=EventBus(),
                    metrics=PipelineMetrics(), llm=llm)
