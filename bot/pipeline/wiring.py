"""The composition root: every process role is built here, from settings, the same way.

``build_pipeline`` builds the pipeline (embedded defaults, or real services when configured) with the
generic YAML alert mappings registered. ``build_runtime`` adds what runs around it for one role:

| role | analysis runner | outbox relay + subscribers (chat, e-mail, write-back) | scheduled jobs (lease) |
|---|---|---|---|
| ``all`` (``sherlog serve``, the default) | yes | yes | yes |
| ``api`` (``sherlog serve --api``) | no | yes | no |
| ``worker`` (``sherlog worker``) | yes | yes | no |
| ``intake`` (``sherlog worker --no-analyze``) | no | yes | no |
| ``scheduler`` (``sherlog scheduler``) | no | yes | yes |

Events cross processes through the database outbox, so an incident analysed in a worker is posted by
whichever relay claims its ``analysis.ready``; the scheduled jobs run in the one holder of the
``scheduler`` lease. Route modules only route: they take the surfaces from ``app.state.runtime``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.domain import ConfigError
from bot.pipeline.context import LiveContextProvider
from bot.pipeline.events import EventBus
from bot.pipeline.learning import attach_feedback_learning
from bot.pipeline.metrics import PipelineMetrics
from bot.pipeline.service import Pipeline
from bot.storage import Store
from config.settings import Settings
from connectors.registry import default_registry

if TYPE_CHECKING:
    from bot.pipeline.outbox import OutboxRelay
    from bot.pipeline.queue import AnalysisQueue
    from bot.pipeline.scheduler import LeaseGate
    from connectors.plugins import LogSource

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> Store:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url, schema=settings.storage.schema_name, echo=settings.storage.echo)


def log_sources_factory(settings: Settings) -> Any:
    """A factory of the configured log sources (a fresh HTTP client per analysis), or None when none is set."""
    if not default_registry().logs_configured(settings):
        return None

    def make() -> list[LogSource]:
        import httpx

        from connectors.logsources.registry import build_log_sources

        return build_log_sources(settings, http=httpx.AsyncClient(timeout=httpx.Timeout(15.0)))

    return make


def register_alert_mappings(settings: Settings) -> list[str]:
    """The generic sources of ``intake.mappings`` (every role parses the same payloads)."""
    if not settings.intake.mappings:
        return []
    from connectors.alerts import register_mappings

    names = register_mappings(settings.intake.mappings)
    log.info("generic alert mappings registered", extra={"sources": names})
    return names


def kubernetes_factory(settings: Settings) -> Any:
    """A builder of the Kubernetes evidence collector when ``kubernetes.enabled``, else None. The client is built
    on first use, so a cluster that cannot be reached is a note on the analysis, not a failed start."""
    return default_registry().evidence_sources(settings).get("kubernetes")


def build_pipeline(settings: Settings, *, store: Store | None = None, with_retriever: bool = True) -> Pipeline:
    from retrieval import Retriever

    default_registry().check_settings(settings)
    register_alert_mappings(settings)
    store = store or open_store(settings)
    retriever = Retriever.from_settings(settings) if with_retriever else None
    metric_sources: dict[str, Any] = dict(default_registry().metric_sources(settings))
    prometheus, influxdb = metric_sources.pop("prometheus", None), metric_sources.pop("influxdb", None)
    llm = build_llm(settings, prometheus=prometheus, influxdb=influxdb, retriever=retriever)
    provider = LiveContextProvider(settings=settings, store=store, prometheus=prometheus, influxdb=influxdb,
                                   metric_sources=metric_sources,
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
            from connectors.kubernetes.reader import core_v1_reader

            try:
                tools.kubernetes = core_v1_reader()
            except ConnectorError as e:
                log.warning("investigation tools without Kubernetes: %s", e)
    return LLMReasoner(settings.llm, tools=tools)


# ---- process roles ------------------------------------------------------------------------------------


class Role(StrEnum):
    ALL = "all"
    API = "api"
    WORKER = "worker"
    INTAKE = "intake"  # ``sherlog worker --no-analyze``: queue intake only
    SCHEDULER = "scheduler"

    @property
    def analyses(self) -> bool:
        return self in (Role.ALL, Role.WORKER)

    @property
    def schedules(self) -> bool:
        return self in (Role.ALL, Role.SCHEDULER)

    @property
    def serves(self) -> bool:
        return self in (Role.ALL, Role.API)


STOP_TIMEOUT_S = 15.0  # a component that does not stop in this time is left behind: shutdown never hangs on it


async def _bounded(what: str, stopping: Awaitable[Any]) -> None:
    """Await one component's stop, at most ``STOP_TIMEOUT_S``; what is left is recovered by the leases (a
    delivery or analysis in flight is taken over after its lease, nothing is lost). A stop still running then
    is cancelled and not waited for (``asyncio.wait_for`` would wait for its cancellation, which a stuck
    component may never honour)."""
    task = asyncio.ensure_future(stopping)
    try:
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        task.result()  # a stop that failed raises here
        return
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # no "exception never retrieved" later
    log.warning("component did not stop in time; left behind", extra={"component": what,
                                                                     "timeout_s": STOP_TIMEOUT_S})


async def stop_bounded(what: str, stop: Callable[[], Awaitable[Any]]) -> None:
    """Run one step of a shutdown: ``stop()`` bounded by ``STOP_TIMEOUT_S`` (``_bounded``), and a step that fails
    is logged, not raised, so that the steps after it still run."""
    try:
        await _bounded(what, stop())
    except Exception:  # noqa: BLE001 - one broken component must not keep the others running
        log.exception("component failed to stop", extra={"component": what})


@dataclass
class Runtime:
    """One process's moving parts; ``start``/``stop`` on its event loop."""

    settings: Settings
    role: Role
    pipeline: Pipeline
    queue: AnalysisQueue
    relay: OutboxRelay
    surfaces: dict[str, Any] = field(default_factory=dict)
    gate: LeaseGate | None = None
    early_warning_job: Any = None
    early_warning_scheduler: Any = None  # apscheduler schedulers of the scheduler role, once started
    digest_scheduler: Any = None
    _schedulers: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        for name, surface in self.surfaces.items():  # every role delivers, so every role runs the retry loops
            if name == "slack":
                await surface.start(receive=self.role.serves)  # Socket Mode only where chat is served
            elif hasattr(surface, "start"):
                await surface.start()
            else:
                surface.scheduler.bind()
        if self.role.analyses:
            self.queue.start()
        self.relay.start()
        if self.gate is not None:
            await asyncio.to_thread(self.gate.start)
            self._start_jobs()

    async def stop(self) -> None:
        for scheduler in self._schedulers:
            scheduler.shutdown(wait=False)
        self._schedulers = []
        gate = self.gate
        if gate is not None:
            await stop_bounded("scheduler lease", lambda: asyncio.to_thread(gate.stop))
        await stop_bounded("analysis queue", self.queue.stop)
        await stop_bounded("outbox relay", self.relay.stop)
        for name, surface in self.surfaces.items():
            await stop_bounded(name, surface.stop if hasattr(surface, "stop") else surface.drain)

    def _start_jobs(self) -> None:
        assert self.gate is not None
        if self.early_warning_job is not None:
            from apscheduler.schedulers.background import BackgroundScheduler

            scheduler = BackgroundScheduler(timezone="UTC")
            scheduler.add_job(self.gate.gated(self.early_warning_job.run_once, name="early-warning"), "interval",
                              minutes=self.settings.prediction.interval_minutes, id="sherlog-early-warning",
                              replace_existing=True, max_instances=1, coalesce=True)
            scheduler.start()
            self._schedulers.append(scheduler)
            self.early_warning_scheduler = scheduler
        digest = self.settings.digest
        if digest.enabled:
            from apscheduler.schedulers.asyncio import AsyncIOScheduler

            from bot.pipeline.digest import SMTPDigestSender, schedule_weekly_digest

            weekly = AsyncIOScheduler(timezone=digest.timezone)
            schedule_weekly_digest(weekly, pipeline=self.pipeline, sender=SMTPDigestSender(self.settings.smtp),
                                   day_of_week=digest.day_of_week, hour=digest.hour, timezone=digest.timezone)
            weekly.start()
            self._schedulers.append(weekly)
            self.digest_scheduler = weekly


def build_runtime(settings: Settings, role: Role = Role.ALL, *, pipeline: Pipeline | None = None) -> Runtime:
    """Everything one process of ``role`` runs, wired the same way for every role."""
    from bot.pipeline.outbox import OutboxRelay
    from bot.pipeline.queue import AnalysisQueue
    from bot.pipeline.scheduler import LeaseGate

    if settings.digest.enabled and not settings.smtp.enabled:
        raise ConfigError("digest.enabled needs smtp.enabled (the weekly digest is sent by e-mail)")
    if pipeline is None:
        pipeline = build_pipeline(settings, with_retriever=role.analyses or role.serves)
    else:
        register_alert_mappings(settings)
    store = pipeline._require_store()
    queue = AnalysisQueue.from_settings(store, pipeline.analyze_job, settings,
                                        on_error=pipeline.metrics.analysis_failures.inc)
    relay = OutboxRelay.from_settings(store, pipeline.events, settings)
    pipeline.outbox = True
    pipeline.outbox_wakers.append(relay.wake)
    runtime = Runtime(settings=settings, role=role, pipeline=pipeline, queue=queue, relay=relay,
                      surfaces=build_surfaces(settings, pipeline, store))
    if role.schedules:
        runtime.gate = LeaseGate(store, ttl_s=settings.scheduler.lease_s)
    runtime.early_warning_job = build_early_warning_job(settings, pipeline, wake=queue.wake)
    return runtime


def build_surfaces(settings: Settings, pipeline: Pipeline, store: Store) -> dict[str, Any]:
    """The subscribers of the outbox events: the enabled chat surfaces and e-mail (the connectors' chat surfaces,
    in registry order: Slack, Teams, e-mail, then plugins), and PagerDuty/Opsgenie write-back."""
    from bot.pipeline.writeback import subscribe as subscribe_writeback

    surfaces: dict[str, Any] = dict(default_registry().chat_surfaces(settings, pipeline, store))
    for surface in surfaces.values():
        surface.subscribe()
    writeback = subscribe_writeback(pipeline)
    if writeback is not None:  # its retry loop runs in every role, like the chat surfaces'
        surfaces["writeback"] = writeback
    return surfaces


def build_early_warning_job(settings: Settings, pipeline: Pipeline, *, wake: Any) -> Any:
    """The early-warning scan (``prediction.enabled``): warnings enter as incidents, analysed by the queue."""
    if not settings.prediction.enabled:
        return None
    from bot.pipeline.early_warning import CsvSource, EarlyWarning, EarlyWarningJob, PrometheusSource

    csv_source = CsvSource()
    prom_source: Any = None
    if settings.prometheus.url:
        from connectors.prometheus.client import PrometheusConnector

        prom_source = PrometheusSource(PrometheusConnector(settings=settings.prometheus), step=settings.prediction.step)

    class _Source:
        """CSV watches read their file; PromQL watches ask Prometheus (when configured)."""

        def fetch(self, watch: Any, *, start: Any, end: Any) -> Any:
            if watch.csv is not None or prom_source is None:
                return csv_source.fetch(watch, start=start, end=end)
            return prom_source.fetch(watch, start=start, end=end)

    def on_warning(warning: EarlyWarning) -> None:
        result = pipeline.raise_early_warning(alert=warning.to_alert(), details=warning.model_dump(mode="json"))
        if result.created:
            wake()  # intake queued the analysis in its transaction

    return EarlyWarningJob(settings=settings.prediction, source=_Source(), on_warning=on_warning)
