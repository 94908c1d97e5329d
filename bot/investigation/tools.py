"""The read-only tools an LLM may call during an investigation, scoped to one incident.

Each tool is a pydantic argument model (its JSON schema is what the model sees, through LangChain's
``StructuredTool``) and a function ``(args, toolbox) -> ToolOutput``. ``Toolbox.call`` validates the
arguments, applies the scope (``Refused``), runs the tool and always returns a ``ToolResult`` with a
status: a failing system, a malformed call or an unknown tool is a result, never an exception.

Tools read what Sherlog has connectors for: metrics (Prometheus or InfluxDB, else the incident's own
series), logs (the configured log sources, else the incident's own lines), Kubernetes (a
``KubernetesReader``), past incidents and runbooks (a ``Retriever``, else the incident's history) and
the topology. None of them writes anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, ValidationError

from bot.domain import ConnectorError, DocumentType, EvidenceType, IncidentContext, MetricSeries, SherlogError
from bot.investigation.kube import describe_pod, event_lines
from bot.investigation.results import ToolOutput, ToolResult, ToolStatus, clip, safe_arguments
from bot.investigation.scope import Refused, Scope

if TYPE_CHECKING:
    from connectors.influxdb.client import InfluxDBConnector
    from connectors.kubernetes.reader import KubernetesReader
    from connectors.logsources.base import LogSource
    from connectors.prometheus.client import PrometheusConnector
    from retrieval import Retriever

log = logging.getLogger(__name__)

MAX_SERIES = 8
POINTS_SHOWN = 24
MAX_LOG_LINES = 80
_LEADING_TIME = re.compile(r"^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)")
# a literal value for a label that selects services (PromQL, InfluxQL with quoted keys, Flux's r.service == "x")
_SERVICE_LABEL_LITERAL = re.compile(
    r"\b(service|app|app_kubernetes_io_name|job|container|instance|host|namespace)[\"`]?\s*(=~|!~|!=|==|=)\s*[\"'`/]")
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")


@dataclass
class ToolResources:
    """The systems tools may read; each is optional (a tool without its system says so)."""

    prometheus: PrometheusConnector | None = None
    influxdb: InfluxDBConnector | None = None
    log_sources: Callable[[], list[LogSource]] | None = None
    kubernetes: KubernetesReader | None = None
    retriever: Retriever | None = None
    kubernetes_namespace: str | None = None  # when the alert names none


# ---- argument models: their field descriptions are the model's documentation --------------------

class MetricsRange(BaseModel):
    """Metric values of one service over a time range (Prometheus / InfluxDB, or the incident's series)."""

    service: str = Field(description="one of the incident's services")
    name: str | None = Field(default=None, description="a configured query name or metric name")
    query: str | None = Field(default=None, description="PromQL (or InfluxQL/Flux) with the placeholder {service} "
                              "unquoted as the service label value, e.g. rate(http_requests_total{service={service}}[5m])")
    start: datetime | None = Field(default=None, description="ISO-8601; default 30 minutes before the alert")
    end: datetime | None = Field(default=None, description="ISO-8601; default 30 minutes after the alert")
    step_s: int | None = Field(default=None, description="resolution in seconds")


class LogsAround(BaseModel):
    """Log lines of one service around a time."""

    service: str = Field(description="one of the incident's services")
    at: datetime | None = Field(default=None, description="ISO-8601; default the alert time")
    minutes_before: int = Field(default=15, ge=0, le=180)
    minutes_after: int = Field(default=5, ge=0, le=180)
    contains: str | None = Field(default=None, max_length=200, description="keep only lines containing this text")
    max_lines: int = Field(default=40, ge=1, le=MAX_LOG_LINES)


class KubernetesPod(BaseModel):
    """A pod as `kubectl describe` summarises it: phase, node, container states, last termination, restarts."""

    pod: str = Field(description="pod name")
    namespace: str | None = Field(default=None, description="default: the incident's namespace (no other allowed)")


class KubernetesEvents(BaseModel):
    """Kubernetes events about one object (pod, node, deployment ...) in the incident's namespace."""

    name: str = Field(description="the involved object's name")
    namespace: str | None = None


class KubernetesPreviousLogs(BaseModel):
    """The last lines a pod's container wrote before it last restarted (kubectl logs --previous)."""

    pod: str
    container: str | None = None
    tail: int = Field(default=50, ge=1, le=200)
    namespace: str | None = None


class SearchHistory(BaseModel):
    """Similar past incidents (with their resolution) or runbook sections for a description."""

    query: str = Field(min_length=2, max_length=300)
    kind: Literal["incidents", "runbooks"] = "incidents"
    k: int = Field(default=3, ge=1, le=5)


class Topology(BaseModel):
    """A service's dependencies and the services that depend on it."""

    service: str


# ---- tool functions -----------------------------------------------------------------------------

def _summarise_series(series: list[MetricSeries], start: datetime, end: datetime) -> str:
    lines = []
    for s in series[:MAX_SERIES]:
        pairs = [(t, v) for t, v in zip(s.timestamps, s.values, strict=False) if start <= t <= end and v == v]
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())[:6])
        if not pairs:
            lines.append(f"{s.service} {s.metric} {{{labels}}}: no points in range")
            continue
        values = [v for _, v in pairs]
        lines.append(f"{s.service} {s.metric} {{{labels}}}: {len(pairs)} points, min={min(values):.4g} "
                     f"max={max(values):.4g} mean={sum(values) / len(values):.4g} first={values[0]:.4g} "
                     f"last={values[-1]:.4g}")
        stride = max(1, len(pairs) // POINTS_SHOWN)
        lines.append("  " + " ".join(f"{t.astimezone(UTC):%H:%M:%S}={v:.4g}" for t, v in pairs[::stride]))
    if len(series) > MAX_SERIES:
        lines.append(f"(+{len(series) - MAX_SERIES} more series not shown)")
    return "\n".join(lines)


def _check_query(query: str) -> None:
    if "{service}" not in query:
        raise Refused("a query must filter on the service: write the placeholder {service} (unquoted) as its "
                      "label value, e.g. up{service={service}}")
    if _SERVICE_LABEL_LITERAL.search(query) or _QUOTED.sub("", query).count("{service}") != query.count("{service}"):
        raise Refused("a query may select services only through the unquoted {service} placeholder")


def _template(args: MetricsRange, queries: dict[str, str]) -> str:
    if args.query:
        return args.query
    if args.name and args.name in queries:
        return queries[args.name]
    known = ", ".join(sorted(queries)) or "none configured"
    raise Refused(f"give a query with {{service}} or one of the configured query names ({known})")


def metrics_range(args: MetricsRange, box: Toolbox) -> ToolOutput:
    scope, res = box.scope, box.resources
    service = scope.service(args.service)
    if args.query:
        _check_query(args.query)
    start, end = scope.span(args.start, args.end)
    step = scope.step(start, end, args.step_s)
    if res.prometheus is not None:
        from connectors.prometheus.client import render_query

        template = _template(args, res.prometheus.settings.queries)
        series = res.prometheus.query_range(render_query(template, service=service), start=start, end=end,
                                            step=f"{step}s", metric=args.name, service=service)
    elif res.influxdb is not None:
        from connectors.influxdb.client import render_query as influx_query

        template = _template(args, res.influxdb.settings.queries)
        query = influx_query(template, version=res.influxdb.settings.version, service=service, start=start, end=end)
        series = res.influxdb.query(query, metric=args.name)
    else:
        if args.query:
            raise Refused("no metrics server is configured: ask by name for one of the incident's series")
        series = [s for s in box.context.metrics if s.service == service and (not args.name or s.metric == args.name)]
    text = _summarise_series(series, start, end)
    empty = not series or "points," not in text
    return ToolOutput(text=text or "no series", summary=f"{len(series)} series of {service}", service=service,
                      type=EvidenceType.METRIC, ts=start, empty=empty)


def _line_time(line: str) -> datetime | None:
    m = _LEADING_TIME.match(line)
    if not m:
        return None
    try:
        ts = datetime.fromisoformat(m.group(1).replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _live_lines(box: Toolbox, service: str, start: datetime, end: datetime) -> list[str]:
    """Lines from every configured log source (their HTTP clients closed after); a note per failing one."""
    from connectors.logsources.base import LogQuery, fetch_service_logs

    factory = box.resources.log_sources
    assert factory is not None

    async def fetch() -> tuple[list[str], list[str]]:
        sources = factory()
        try:
            return await fetch_service_logs(sources, LogQuery(service, start, end, limit=20_000))
        finally:
            clients = {id(c): c for s in sources if (c := getattr(s, "client", None)) is not None}
            for client in clients.values():
                close = getattr(client, "aclose", None)
                if close is not None:
                    await close()

    lines, notes = asyncio.run(fetch())
    if notes and not lines:
        raise ConnectorError("; ".join(notes)[:500])
    return lines


def logs_around(args: LogsAround, box: Toolbox) -> ToolOutput:
    scope = box.scope
    service = scope.service(args.service)
    at = scope.time(args.at)
    start, end = at - timedelta(minutes=args.minutes_before), at + timedelta(minutes=args.minutes_after)
    scope.span(start, end)
    found = _live_lines(box, service, start, end) if box.resources.log_sources is not None \
        else box.context.logs.get(service, [])
    lines = [ln for ln in found if (t := _line_time(ln)) is None or start <= t <= end]  # not every source filters
    if args.contains:
        lines = [ln for ln in lines if args.contains.lower() in ln.lower()]
    shown = lines[-args.max_lines:]
    more = f"({len(lines) - len(shown)} earlier lines not shown)\n" if len(lines) > len(shown) else ""
    return ToolOutput(text=more + "\n".join(ln[:500] for ln in shown) if shown else "no lines",
                      summary=f"{len(lines)} lines of {service}", service=service, type=EvidenceType.LOG,
                      ts=at, empty=not shown)


def _reader(box: Toolbox) -> KubernetesReader:
    if box.resources.kubernetes is None:
        raise ConnectorError("no Kubernetes access is configured (logs.kubernetes_enabled)")
    return box.resources.kubernetes


def kubernetes_pod(args: KubernetesPod, box: Toolbox) -> ToolOutput:
    namespace = box.scope.in_namespace(args.namespace)
    pod = _reader(box).pod(namespace, args.pod)
    return ToolOutput(text=describe_pod(pod), summary=f"pod {args.pod}", type=EvidenceType.KUBERNETES)


def kubernetes_events(args: KubernetesEvents, box: Toolbox) -> ToolOutput:
    namespace = box.scope.in_namespace(args.namespace)
    lines = event_lines(_reader(box).events(namespace, args.name))
    return ToolOutput(text="\n".join(lines) or "no events", summary=f"{len(lines)} events of {args.name}",
                      type=EvidenceType.KUBERNETES, empty=not lines)


def kubernetes_previous_logs(args: KubernetesPreviousLogs, box: Toolbox) -> ToolOutput:
    namespace = box.scope.in_namespace(args.namespace)
    text = _reader(box).previous_logs(namespace, args.pod, args.container, args.tail)
    lines = text.splitlines()[-args.tail:]
    return ToolOutput(text="\n".join(lines) or "no previous logs",
                      summary=f"{len(lines)} previous-container lines of {args.pod}",
                      type=EvidenceType.KUBERNETES, empty=not lines)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9_]{3,}", text.lower())}


def search_history(args: SearchHistory, box: Toolbox) -> ToolOutput:
    doc_type = DocumentType.INCIDENT if args.kind == "incidents" else DocumentType.RUNBOOK
    if box.resources.retriever is not None:
        from retrieval import SearchFilters

        retriever = box.resources.retriever
        docs = [h.document for h in retriever.search(retriever.query_for_question(args.query), k=args.k,
                                                     filters=SearchFilters(type=doc_type))]
    else:  # the incident's own history, by shared words
        wanted = _words(args.query)
        scored = [(len(wanted & _words(f"{d.title} {d.text}")), d) for d in box.context.history if d.type == doc_type]
        docs = [d for s, d in sorted(scored, key=lambda p: -p[0]) if s > 0][:args.k]
    lines = []
    for d in docs:
        cause = f" cause={d.root_cause_kind} in {d.root_cause_service}" if d.root_cause_kind else ""
        fix = f" resolution={d.resolution[:200]}" if d.resolution else ""
        lines.append(f"[{d.id}] {d.title}{cause}{fix}\n  {' '.join(d.text.split())[:400]}")
    return ToolOutput(text="\n".join(lines) or "nothing found", summary=f"{len(docs)} {args.kind}",
                      type=EvidenceType.INCIDENT if doc_type is DocumentType.INCIDENT else EvidenceType.RUNBOOK,
                      empty=not docs)


def topology(args: Topology, box: Toolbox) -> ToolOutput:
    service = box.scope.service(args.service)
    graph = box.context.topology
    deps = graph.get(service, [])
    callers = sorted(s for s, d in graph.items() if service in d)
    return ToolOutput(text=f"{service} depends on: {', '.join(deps) or '(none known)'}\n"
                           f"depend on {service}: {', '.join(callers) or '(none known)'}",
                      summary=f"neighbours of {service}", service=service, type=EvidenceType.TOPOLOGY,
                      empty=not graph)


ToolFunction = Callable[[Any, "Toolbox"], ToolOutput]

TOOLS: dict[str, tuple[type[BaseModel], ToolFunction]] = {
    "metrics_range": (MetricsRange, metrics_range),
    "logs_around": (LogsAround, logs_around),
    "kubernetes_pod": (KubernetesPod, kubernetes_pod),
    "kubernetes_events": (KubernetesEvents, kubernetes_events),
    "kubernetes_previous_logs": (KubernetesPreviousLogs, kubernetes_previous_logs),
    "search_history": (SearchHistory, search_history),
    "topology": (Topology, topology),
}


def _no_direct_run(**_: Any) -> str:
    raise RuntimeError("Sherlog runs its tools itself (Toolbox.call), with scope and budget checks")


@dataclass
class Toolbox:
    """The tools of one investigation: one incident's scope, the systems to read, the numbering."""

    context: IncidentContext
    scope: Scope
    resources: ToolResources
    output_chars: int = 4000
    results: list[ToolResult] = field(default_factory=list)
    stopped: str | None = None  # the budget that ended tool use before the model's answer, if one did

    def specs(self) -> list[StructuredTool]:
        """The tools as LangChain describes them to any provider (name, description, JSON schema)."""
        return [StructuredTool.from_function(func=_no_direct_run, name=name, description=(model.__doc__ or name),
                                             args_schema=model)
                for name, (model, _) in TOOLS.items()]

    def _result(self, tool: str, arguments: dict[str, Any], status: ToolStatus, text: str, **kw: Any) -> ToolResult:
        result = ToolResult(n=len(self.results) + 1, tool=tool[:80], arguments=safe_arguments(arguments),
                            status=status, text=clip(text, self.output_chars), **kw)
        self.results.append(result)
        return result

    def skip(self, tool: str, arguments: dict[str, Any], status: ToolStatus, reason: str) -> ToolResult:
        return self._result(tool, arguments, status, reason, summary=reason[:200])

    def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        if tool not in TOOLS:
            return self.skip(tool, arguments, ToolStatus.ERROR,
                             f"unknown tool {tool[:80]!r}; the tools are {', '.join(TOOLS)}")
        model, function = TOOLS[tool]
        started = time.perf_counter()
        try:
            args = model.model_validate(arguments)
            output = function(args, self)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                                 for err in e.errors()[:5])
            return self.skip(tool, arguments, ToolStatus.ERROR, f"invalid arguments: {problems}")
        except Refused as e:
            return self.skip(tool, arguments, ToolStatus.REFUSED, f"refused: {e}")
        except (SherlogError, ValueError, RuntimeError) as e:
            return self.skip(tool, arguments, ToolStatus.ERROR, f"failed: {e}"[:500])
        except Exception as e:  # noqa: BLE001 - a tool failure is evidence for the model, never a crash
            log.warning("investigation tool failed", extra={"tool": tool}, exc_info=e)
            return self.skip(tool, arguments, ToolStatus.ERROR, f"failed unexpectedly ({e.__class__.__name__})")
        status = ToolStatus.EMPTY if output.empty else ToolStatus.OK
        return self._result(tool, arguments, status, output.text, summary=output.summary, type=output.type,
                            service=output.service, ts=output.ts,
                            duration_ms=(time.perf_counter() - started) * 1000, size_chars=len(output.text))
