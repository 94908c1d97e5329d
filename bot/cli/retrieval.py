"""``sherlog ingest ...`` (past incidents and runbooks into the retrieval index) and ``sherlog search``.

Registered by the main CLI: ``app.add_typer(ingest_app, name="ingest")`` and
``app.command("search")(search_command)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.common import console, friendly_errors
from bot.domain import ConfigError, Document, DocumentType, InputError

if TYPE_CHECKING:
    from retrieval import Retriever, SearchHit

ingest_app = typer.Typer(
    help="Import past incidents and runbooks into the retrieval index (re-importing updates, never duplicates).",
    no_args_is_help=True,
)

PathArg = Annotated[Path, typer.Argument(help="File or folder to import.", exists=True)]
TypeOpt = Annotated[DocumentType, typer.Option("--type", help="Kind of document when a record does not say.")]
SinceOpt = Annotated[
    str, typer.Option("--since", help="Oldest to import: ISO date (2026-01-31) or age (90d, 12h).")
]


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO date/time or an age such as ``90d``, ``12h``, ``2w``."""
    moment = now or datetime.now(UTC)
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text.lower())
    if match:
        n, unit = int(match.group(1)), match.group(2)
        return moment - {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--since {text!r}: give an ISO date (2026-01-31) or an age (90d, 12h, 2w)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _retriever() -> Retriever:
    from config.settings import get_settings
    from retrieval import Retriever

    return Retriever.from_settings(get_settings())


def _run_ingest(docs: Iterable[Document], problems: list[tuple[str, str]], *, what: str) -> None:
    from retrieval import IngestReport

    items = list(docs)
    retriever = _retriever()
    report = IngestReport()
    if items:
        with Progress(
            TextColumn(f"[bold]{what}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(what, total=len(items))
            update: Callable[[int], None] = lambda done: bar.update(task, completed=done)  # noqa: E731
            report = retriever.upsert(items, progress=update)
    for where, reason in problems:
        report.skip(where, reason)
    console.print(f"{what}: {report.summary()}", soft_wrap=True, highlight=False)
    table = Table(show_lines=False)
    table.add_column("result")
    table.add_column("count", justify="right")
    table.add_column("detail")
    table.add_row(
        "added",
        str(len(report.added)),
        ", ".join(report.added[:3]) + (" ..." if len(report.added) > 3 else ""),
    )
    table.add_row(
        "updated",
        str(len(report.updated)),
        ", ".join(report.updated[:3]) + (" ..." if len(report.updated) > 3 else ""),
    )
    for reason, n in sorted(report.skipped_by_reason.items()):
        examples = [s.id for s in report.skipped if s.reason == reason][:3]
        table.add_row(f"skipped: {reason}", str(n), ", ".join(examples))
    if report.removed:
        table.add_row("removed (stale sections)", str(len(report.removed)), ", ".join(report.removed[:3]))
    console.print(table)
    console.print(f"index now holds {retriever.count()} documents")


@ingest_app.command("incidents")
@friendly_errors
def ingest_incidents(path: PathArg) -> None:
    """Past incidents: a folder of Markdown files with YAML front matter."""
    from retrieval import read_markdown_folder

    result = read_markdown_folder(path, type=DocumentType.INCIDENT)
    _run_ingest(result.documents, [(p.path, p.reason) for p in result.problems], what="incidents")


@ingest_app.command("runbooks")
@friendly_errors
def ingest_runbooks(path: PathArg) -> None:
    """Runbooks: a folder of Markdown files, split into sections by heading (with links to each section)."""
    from retrieval import read_markdown_folder

    result = read_markdown_folder(path, type=DocumentType.RUNBOOK)
    _run_ingest(result.documents, [(p.path, p.reason) for p in result.problems], what="runbook sections")


@ingest_app.command("json")
@friendly_errors
def ingest_json(path: PathArg, type: TypeOpt = DocumentType.INCIDENT) -> None:  # noqa: A002
    """A JSON (array, or object holding one) or JSON Lines export of incidents or runbooks."""
    from retrieval.importers import read_json_file

    result = read_json_file(path, type=type)
    _run_ingest(
        result.documents, [(p.path, p.reason) for p in result.problems], what=f"{type.value}s from JSON"
    )


@ingest_app.command("csv")
@friendly_errors
def ingest_csv(path: PathArg, type: TypeOpt = DocumentType.INCIDENT) -> None:  # noqa: A002
    """A CSV export with a header row (id,title,date,services,category,resolution,url,text,...)."""
    from retrieval.importers import read_csv_file

    result = read_csv_file(path, type=type)
    _run_ingest(
        result.documents, [(p.path, p.reason) for p in result.problems], what=f"{type.value}s from CSV"
    )


@ingest_app.command("pagerduty")
@friendly_errors
def ingest_pagerduty(since: SinceOpt = "90d") -> None:
    """Resolved PagerDuty incidents with their notes (needs pagerduty.api_token)."""
    from config.settings import get_settings
    from connectors.pagerduty.client import PagerDutyConnector

    settings = get_settings()
    if settings.pagerduty.api_token is None:
        raise ConfigError("pagerduty.api_token is not set (SHERLOG__PAGERDUTY__API_TOKEN)")
    connector = PagerDutyConnector(settings.pagerduty)
    docs = list(connector.history_documents(since=parse_since(since)))
    _run_ingest(docs, [], what="PagerDuty incidents")


@ingest_app.command("opsgenie")
@friendly_errors
def ingest_opsgenie(since: SinceOpt = "90d") -> None:
    """Closed Opsgenie alerts with their notes (needs opsgenie.api_key)."""
    from config.settings import get_settings
    from connectors.opsgenie.client import OpsgenieConnector

    settings = get_settings()
    if settings.opsgenie.api_key is None:
        raise ConfigError("opsgenie.api_key is not set (SHERLOG__OPSGENIE__API_KEY)")
    connector = OpsgenieConnector(settings.opsgenie)
    docs = list(connector.history_documents(since=parse_since(since)))
    _run_ingest(docs, [], what="Opsgenie alerts")


@ingest_app.command("sherlog")
@friendly_errors
def ingest_sherlog(since: SinceOpt = "3650d") -> None:
    """Sherlog's own resolved incidents with a confirmed cause (backfill; new ones are indexed on resolve)."""
    from bot.storage import Store
    from config.settings import get_settings
    from retrieval import document_for_incident

    settings = get_settings()
    store = Store.open(settings.database_url)
    docs: list[Document] = []
    problems: list[tuple[str, str]] = []
    try:
        offset = 0
        while True:
            page = store.list_incidents(status="resolved", since=parse_since(since), limit=500, offset=offset)
            for incident in page:
                analysis = store.latest_analysis(incident_id=incident.id)
                doc = document_for_incident(incident, summary=analysis.summary if analysis else "")
                if doc is None:
                    problems.append((incident.id, "no confirmed cause"))
                else:
                    docs.append(doc)
            if len(page) < 500:
                break
            offset += 500
    finally:
        store.close()
    _run_ingest(docs, problems, what="Sherlog incidents")


@friendly_errors
def search_command(
    text: Annotated[str, typer.Argument(help="What to look for, e.g. 'db pool exhausted on checkout'.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="Number of results.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    type: Annotated[  # noqa: A002
        DocumentType | None, typer.Option("--type", help="Only incidents or only runbooks.")
    ] = None,
) -> None:
    """Search past incidents and runbook sections (hybrid: meaning + keywords)."""
    from retrieval import SearchFilters

    retriever = _retriever()
    hits = retriever.search(retriever.query_for_question(text), k=k, filters=SearchFilters(type=type))
    if json_out:
        typer.echo(json.dumps([_hit_json(h) for h in hits], indent=2))
        return
    if not hits:
        console.print(f"no match among {retriever.count()} documents (import some with `sherlog ingest`)")
        return
    table = Table(title=f"{len(hits)} results for {text!r}")
    for col in ("#", "score", "type", "title", "why", "resolution / link"):
        table.add_column(col, overflow="fold")
    for h in hits:
        doc = h.document
        title = " › ".join([doc.title, *doc.heading_path])
        tail = "\n".join(x for x in (doc.resolution, doc.url) if x)
        table.add_row(str(h.rank), f"{h.score:.2f}", doc.type.value, title, h.why, tail)
    console.print(table)


def _hit_json(hit: SearchHit) -> dict[str, object]:
    doc = hit.document
    return {
        "rank": hit.rank,
        "id": doc.id,
        "type": doc.type.value,
        "title": doc.title,
        "heading_path": doc.heading_path,
        "url": doc.url,
        "services": doc.services,
        "category": doc.category,
        "resolution": doc.resolution,
        "score": round(hit.score, 4),
        "dense": round(hit.dense, 4),
        "bm25": round(hit.bm25, 4),
        "why": hit.why,
    }
