"""``sherlog worker``: consume alerts (or log lines) from RabbitMQ or Kafka into the pipeline; ``sherlog
scheduler``: the scheduled jobs, run by the one holder of the database lease.

Run as many as you like, on as many machines as you like: each message is acked only after it is
persisted, intake serialises correlation through the database, and a killed worker's unacked messages
go to the others.
"""

from __future__ import annotations

import asyncio
import signal
from enum import StrEnum
from typing import Annotated, Any

import typer

from bot.cli.common import configure_logging, err_console, friendly_errors


class QueueKind(StrEnum):
    alerts = "alerts"
    logs = "logs"


def _source(settings: Any, queue: str) -> Any:
    if settings.rabbitmq.broker == "kafka":
        from connectors.kafka import KafkaSource

        return KafkaSource.from_settings(settings, topic=queue)
    from connectors.rabbitmq import RabbitMQBroker

    return RabbitMQBroker.from_settings(settings, queue=queue)


async def consume_until_stopped(runner: Any, source: Any, runtime: Any) -> None:
    """Start ``runtime``, consume with ``runner`` until SIGINT/SIGTERM (or the source ends), then close the source
    (bounded: a broker that no longer answers must not keep the runtime from stopping and handing back what this
    worker claimed) and stop ``runtime``."""
    from bot.pipeline.wiring import stop_bounded

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if runtime is not None:
        await runtime.start()
    task = asyncio.ensure_future(runner.run(stop=stop))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await stop_bounded("message source", source.close)
        if runtime is not None:
            await runtime.stop()


@friendly_errors
def worker(
    queue: Annotated[QueueKind, typer.Option(help="What to consume: alerts or log lines.")] = QueueKind.alerts,
    analyze: Annotated[bool, typer.Option("--analyze/--no-analyze",
                                          help="Analyse created/changed incidents in this worker.")] = True,
    batch_size: Annotated[int, typer.Option(help="Messages persisted per transaction (default: settings).")] = 0,
) -> None:
    """Consume the alert (or log-line) queue: persist, ack, and analyse; poison messages go to the DLQ.

    Analyses come from the durable queue (any worker takes any incident); events go out through the outbox."""
    from bot.cli.main import _settings
    from bot.pipeline.consumer import AlertWorker, LogWorker
    from bot.pipeline.wiring import Role, build_runtime

    settings = _settings()
    configure_logging(settings.log_level)
    size = batch_size or settings.rabbitmq.batch_size
    runtime: Any = None
    if queue == QueueKind.alerts:
        source = _source(settings, settings.rabbitmq.alerts_queue)
        # the worker role: intake from the queue, the analysis runner (unless --no-analyze: other workers
        # drain the durable queue) and the outbox relay with the same subscribers as every role
        runtime = build_runtime(settings, Role.WORKER if analyze else Role.INTAKE)
        runner: Any = AlertWorker(pipeline=runtime.pipeline, source=source, batch_size=size, analyze=analyze,
                                  waker=runtime.queue.wake if analyze else None)
    else:
        source = _source(settings, settings.rabbitmq.logs_queue)
        runner = LogWorker(source=source, root=settings.data_dir / "logs", batch_size=size)
    err_console.print(f"[dim]consuming {queue.value} from {settings.rabbitmq.broker} (batch {size}); Ctrl-C stops[/]")

    async def main() -> None:
        await consume_until_stopped(runner, source, runtime)
        s = runner.stats
        err_console.print(f"[dim]stopped: {s.messages} messages, {s.alerts} alerts, {s.acked} acked, "
                          f"{s.dead_lettered} dead-lettered, {s.retried} retried[/]")

    asyncio.run(main())


@friendly_errors
def scheduler() -> None:
    """Run the scheduled jobs (early warnings, weekly digest). With several replicas, the holder of the
    database lease runs them and a standby takes over when it dies."""
    from bot.cli.main import _settings
    from bot.pipeline.wiring import Role, build_runtime

    settings = _settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings, Role.SCHEDULER)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await runtime.start()
        owner = runtime.gate.owner if runtime.gate is not None else "?"
        err_console.print(f"[dim]scheduler {owner} started (lease {settings.scheduler.lease_s:g} s); Ctrl-C stops[/]")
        try:
            await stop.wait()
        finally:
            await runtime.stop()

    asyncio.run(main())
