"""``sherlog worker``: consume alerts (or log lines) from RabbitMQ or Kafka into the pipeline.

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


@friendly_errors
def worker(
    queue: Annotated[QueueKind, typer.Option(help="What to consume: alerts or log lines.")] = QueueKind.alerts,
    analyze: Annotated[bool, typer.Option("--analyze/--no-analyze",
                                          help="Analyse created/changed incidents in this worker.")] = True,
    batch_size: Annotated[int, typer.Option(help="Messages persisted per transaction (default: settings).")] = 0,
) -> None:
    """Consume the alert (or log-line) queue: persist, ack, and analyse; poison messages go to the DLQ."""
    from bot.cli.main import _settings
    from bot.pipeline.consumer import AlertWorker, LogWorker
    from bot.pipeline.wiring import build_pipeline

    settings = _settings()
    configure_logging(settings.log_level)
    size = batch_size or settings.rabbitmq.batch_size
    if queue == QueueKind.alerts:
        source = _source(settings, settings.rabbitmq.alerts_queue)
        pipeline = build_pipeline(settings, with_retriever=analyze)
        runner: Any = AlertWorker(pipeline=pipeline, source=source, batch_size=size, analyze=analyze)
    else:
        source = _source(settings, settings.rabbitmq.logs_queue)
        runner = LogWorker(source=source, root=settings.data_dir / "logs", batch_size=size)
    err_console.print(f"[dim]consuming {queue.value} from {settings.rabbitmq.broker} (batch {size}); Ctrl-C stops[/]")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(runner.run(stop=stop))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await source.close()
        s = runner.stats
        err_console.print(f"[dim]stopped: {s.messages} messages, {s.alerts} alerts, {s.acked} acked, "
                          f"{s.dead_lettered} dead-lettered, {s.retried} retried[/]")

    asyncio.run(main())
