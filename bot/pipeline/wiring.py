"""Build the pipeline from settings: the embedded defaults, or real services when configured."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.pipeline.context import LiveContextProvider
from bot.pipeline.events import EventBus
from bot.pipeline.learning import attach_feedback_learning
from bot.pipeline.metrics import PipelineMetrics
from bot.pipeline.service import Pipeline
from bot.storage import Store
from config.settings import Settings

if TYPE_CHECKING:
    from connectors.logsources import LogSource

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url, schema=settings.storage.schema_name, echo=settings.storage.echo)


def log_sources_factory(settings: Settings) -> Any:
    """A factory of the configured log sources (a fresh HTTP client per analysis), or None when none is set."""
    cfg = settings.logs
    if not (cfg.loki_url or cfg.elasticsearch_url or cfg.splunk_url or cfg.log_dir or cfg.kubernetes_enabled):
        return None

    def make() -> list[LogSource]:
        import httpx

        from connectors.logsources.registry import build_log_sources

        return build_log_sources(cfg, http=httpx.AsyncClient(timeout=httpx.Timeout(15.0)))

    return make


def kubernetes_factory(settings: Settings) -> Any:
    """A builder of the Kubernetes evidence collector when ``kubernetes.enabled``, else None. The client is built
    on first use, so a cluster that cannot be reached is a note on the analysis, not a failed start."""
    if not settings.kubernetes.enabled:
        return None

    def make() -> Any:
        from connectors.kubernetes_evidence import KubernetesEvidenceCollector, api_client_from_settings

        return KubernetesEvidenceCollector(api_client=api_client_from_settings(settings.kubernetes),
                                           settings=settings.kubernetes)

    return make


def build_pipeline(settings: Settings, *, store: Store | None = None, with_retriever: bool = True) -> Pipeline:
    from retrieval import Retriever

    store = store or open_store(settings)
    retriever = Retriever.from_settings(settings) if with_retriever else None
    prometheus = None
    if settings.prometheus.url:
        from connectors.prometheus import PrometheusConnector

        prometheus = PrometheusConnector(settings=settings.prometheus)
    influxdb = None
    if settings.influxdb.url:
        from connectors.influxdb import InfluxDBConnector

        influxdb = InfluxDBConnector(settings=settings.influxdb)
    llm = build_llm(settings, prometheus=prometheus, influxdb=influxdb, retriever=retriever)
    provider = LiveContextProvider(settings=settings, store=store, prometheus=prometheus, influxdb=influxdb,
                                   log_sources_factory=log_sources_factory(settings),
                                   kubernetes_factory=kubernetes_factory(settings))
    pipeline = Pipeline(settings=settings, store=store, retriever=retriever, events=EventBus(),
                        metrics=PipelineMetrics(), llm=llm, context_provider=provider)
    attach_feedback_learning(pipeline)
    return pipeline


def build_llm(settings: Settings, *, prometheus: Any = None, influxdb: Any = None, retriever: Any = None) -> Any:
    """The LLM reasoner when ``llm.enabled`` (None otherwise), with the systems its tools may read."""
    if not settings.llm.enabled:
        return None
    from bot.investigation import ToolResources
    from bot.reasoning.llm import LLMReasoner

    tools = ToolResources(prometheus=prometheus, influxdb=influxdb, retriever=retriever,
                          kubernetes_namespace=settings.logs.kubernetes_namespace)
    if settings.llm.investigate:
        tools.log_sources = log_sources_factory(settings)
        if settings.logs.kubernetes_enabled:
            from bot.domain import ConnectorError
            from connectors.kube_reader import core_v1_reader

            try:
                tools.kubernetes = core_v1_reader()
            except ConnectorError as e:
                log.warning("investigation tools without Kubernetes: %s", e)
    return LLMReasoner(settings.llm, tools=tools)
