"""Read an evidence bundle folder (ARCHITECTURE.md, "Evidence bundles") into an ``IncidentContext``.

Every part but ``alert.json`` is optional; what is missing is reported in ``BundleReport.lacked``,
what is malformed in ``BundleReport.problems`` (the part is skipped, the analysis goes on).
"""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.domain import (
    BundleError,
    ChangeEvent,
    Document,
    DocumentType,
    GroundTruth,
    Incident,
    IncidentContext,
    InputError,
    KubeText,
    MetricSeries,
    stable_hash,
)
from connectors.alerts import parse_alerts
from detectors.kubernetes import container_logs

log = logging.getLogger(__name__)

MAX_LOG_LINES_PER_SERVICE = 200_000
MAX_LINE_CHARS = 8_192
MAX_KUBE_FILE_BYTES = 4_000_000


@dataclass
class BundleReport:
    path: Path
    lacked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    truth: GroundTruth | None = None


def parse_timestamp(value: str | float | int) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value) / (1000.0 if value > 1e11 else 1.0), tz=UTC)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return parse_timestamp(number)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BundleError(f"{path.name}: not readable JSON ({e})") from e


def incident_from_alert_payload(payload: Any, *, source: str | None = None) -> Incident:
    alerts = parse_alerts(payload, source=source)
    first = alerts[0]
    incident = Incident(
        fingerprint=first.fingerprint,
        title=first.summary or first.name,
        service=first.service,
        severity=max((a.severity for a in alerts), key=lambda s: ["info", "warning", "high", "critical"].index(s.value)),
        source=first.source,
        labels=first.labels,
        alerts=alerts,
        started_at=min(a.starts_at for a in alerts),
    )
    return incident


def _read_logs(folder: Path, report: BundleReport) -> dict[str, list[str]]:
    logs: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.log")):
        service = path.stem
        lines: list[str] = []
        try:
            with path.open("r", encoding="utf-8", errors="replace") as fh:
                for i, line in enumerate(fh):
                    if i >= MAX_LOG_LINES_PER_SERVICE:
                        report.problems.append(
                            f"logs/{path.name}: only the first {MAX_LOG_LINES_PER_SERVICE} lines were read"
                        )
                        break
                    lines.append(line.rstrip("\n")[:MAX_LINE_CHARS])
        except OSError as e:
            report.problems.append(f"logs/{path.name}: unreadable ({e.strerror})")
            continue
        logs[service] = lines
    return logs


def _read_metric_csv(path: Path) -> MetricSeries:
    name = path.name[: -len(".csv")]
    if "." not in name:
        raise BundleError(f"metrics/{path.name}: name must be <service>.<metric>.csv")
    service, metric = name.split(".", 1)
    series = MetricSeries(service=service, metric=metric)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"timestamp", "value"} <= set(reader.fieldnames):
            raise BundleError(f"metrics/{path.name}: needs the columns timestamp,value")
        for n, row in enumerate(reader, start=2):
            try:
                ts = parse_timestamp(row["timestamp"])
                value = float(row["value"]) if row["value"] not in ("", "NaN", "nan", None) else float("nan")
            except (ValueError, TypeError) as e:
                raise BundleError(f"metrics/{path.name}:{n}: {e}") from e
            series.timestamps.append(ts)
            series.values.append(value)
    return series


def _read_metric_json(path: Path) -> list[MetricSeries]:
    from connectors.prometheus.client import parse_query_range  # the Prometheus connector owns the format

    return list(parse_query_range(_read_json(path)))


def _read_metrics(folder: Path, report: BundleReport) -> list[MetricSeries]:
    out: list[MetricSeries] = []
    for path in sorted(folder.iterdir()):
        try:
            if path.suffix == ".csv":
                out.append(_read_metric_csv(path))
            elif path.suffix == ".json":
                out.extend(_read_metric_json(path))
        except (InputError, ImportError) as e:
            report.problems.append(str(e))
    return out


def _read_events(path: Path, report: BundleReport) -> list[ChangeEvent]:
    events: list[ChangeEvent] = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            events.append(
                ChangeEvent(
                    ts=parse_timestamp(obj["ts"]),
                    kind=str(obj.get("kind", "change")),
                    service=obj.get("service"),
                    text=str(obj.get("text", ""))[:2000],
                )
            )
        except (json.JSONDecodeError, KeyError, ValueError, TypeError) as e:
            report.problems.append(f"events.jsonl:{n}: skipped ({e.__class__.__name__}: {e})")
    return sorted(events, key=lambda e: e.ts)


def _read_kubernetes(folder: Path, report: BundleReport) -> list[KubeText]:
    """Every file under ``kubernetes/`` as raw text (kubectl describe / get / events / logs output)."""
    out: list[KubeText] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_KUBE_FILE_BYTES + 1)
        except OSError as e:
            report.problems.append(f"kubernetes/{name}: unreadable ({e.strerror})")
            continue
        if len(data) > MAX_KUBE_FILE_BYTES:
            report.problems.append(f"kubernetes/{name}: only the first {MAX_KUBE_FILE_BYTES} bytes were read")
            data = data[:MAX_KUBE_FILE_BYTES]
        out.append(KubeText(name=name, text=data.decode("utf-8", errors="replace")))
    return out


def _add_container_logs(context: IncidentContext, report: BundleReport) -> None:
    """``kubectl logs`` files among the Kubernetes texts feed the log detectors too (by workload)."""
    try:
        services = sorted({*context.topology, *(d for deps in context.topology.values() for d in deps)})
        found = container_logs(context.kubernetes, services)
    except Exception as e:  # noqa: BLE001 - the texts stay Kubernetes evidence; only their log reading is lost
        log.warning("kubernetes: container logs not read", extra={"error": f"{type(e).__name__}: {e}"})
        report.problems.append(f"kubernetes/: container logs not read ({type(e).__name__})")
        return
    for workload, lines in found.items():
        kept = [line[:MAX_LINE_CHARS] for line in lines[:MAX_LOG_LINES_PER_SERVICE]]
        # logs that name no workload are the alerting service's (a lone "previous.txt" next to its alert)
        context.logs.setdefault(workload or context.incident.service or "unknown", []).extend(kept)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if text.startswith("---"):
        parts = text.split("\n---", 1)
        if len(parts) == 2:
            meta = yaml.safe_load(parts[0][3:]) or {}
            body = parts[1].lstrip("-").lstrip("\n")
            if isinstance(meta, dict):
                return meta, body
    return {}, text


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def read_history_documents(folder: Path, doc_type: DocumentType, report: BundleReport | None = None) -> list[Document]:
    """Markdown files with YAML front matter -> Documents (whole files; retrieval splits runbooks)."""
    docs: list[Document] = []
    for path in sorted(folder.glob("*.md")):
        try:
            meta, body = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
        except yaml.YAMLError as e:
            if report:
                report.problems.append(f"{path.name}: front matter is not valid YAML ({e.__class__.__name__})")
            continue
        date = meta.get("date")
        try:
            parsed_date = parse_timestamp(str(date)) if date else None
        except ValueError:
            parsed_date = None
        docs.append(
            Document(
                id=str(meta.get("id") or f"{doc_type.value}-{stable_hash(path.name)}"),
                type=doc_type,
                title=str(meta.get("title") or path.stem),
                text=body,
                url=meta.get("url"),
                services=_as_list(meta.get("services")),
                category=meta.get("category"),
                kinds=_as_list(meta.get("kinds")) or _as_list(meta.get("root_cause_kind")),
                root_cause_service=meta.get("root_cause_service"),
                root_cause_kind=meta.get("root_cause_kind"),
                resolution=meta.get("resolution"),
                date=parsed_date,
                source="bundle",
            )
        )
    return docs


# the kind of log a file is, written after the component it belongs to (``db1-kern.log``, ``web.error.log``,
# ``rack-bmc.log``): the kernel's, the syslog's, a board controller's, an audit trail, a web server's error or access
# log, a site's building-management or electrical power monitoring system (``dc1-bms.log``, ``atl-epms.log``)
_LOG_ROLE = re.compile(r"^(?P<base>.+?)[-._](?:kern|kernel|syslog|messages|dmesg|journal|bmc|ipmi|audit|error|errors|"
                       r"access|console|bms|epms|dcim)$")


def _attach_role_logs(context: IncidentContext) -> None:
    """A log named for a component and the kind of log it is is that component's log: ``git-server-kern.log`` holds
    git-server's kernel lines when git-server is a component (in the topology, a metric's service or the alert's) and
    no component is called ``git-server-kern``. A component that has a log of its own keeps it apart."""
    known = set(context.topology) | {d for deps in context.topology.values() for d in deps}
    known |= {s.service for s in context.metrics}
    if context.incident.service:
        known.add(context.incident.service)
    for stem in sorted(context.logs):
        if stem in known:
            continue
        match = _LOG_ROLE.match(stem)
        if match is None or match["base"] not in known or match["base"] in context.logs:
            continue
        context.logs[match["base"]] = context.logs.pop(stem)


def load_bundle(path: str | Path) -> tuple[IncidentContext, BundleReport]:
    root = Path(path)
    if not root.is_dir():
        raise BundleError(f"{root}: not a folder (a bundle is a folder holding alert.json)")
    alert_path = root / "alert.json"
    if not alert_path.is_file():
        raise BundleError(f"{root}: alert.json is missing (the one required part of a bundle)")
    report = BundleReport(path=root)
    incident = incident_from_alert_payload(_read_json(alert_path))
    context = IncidentContext(incident=incident)

    logs_dir = root / "logs"
    if logs_dir.is_dir():
        context.logs = _read_logs(logs_dir, report)
    if not context.logs:
        report.lacked.append("logs")

    metrics_dir = root / "metrics"
    if metrics_dir.is_dir():
        context.metrics = _read_metrics(metrics_dir, report)
    if not context.metrics:
        report.lacked.append("metrics")

    events_path = root / "events.jsonl"
    if events_path.is_file():
        context.events = _read_events(events_path, report)
    else:
        report.lacked.append("events")

    topo_path = root / "topology.json"
    if topo_path.is_file():
        try:
            topo = _read_json(topo_path)
            if not isinstance(topo, dict):
                raise BundleError("topology.json: expected {service: [dependency, ...]}")
            context.topology = {str(k): [str(d) for d in (v or [])] for k, v in topo.items()}
        except BundleError as e:
            report.problems.append(str(e))
    else:
        report.lacked.append("topology")
    _attach_role_logs(context)

    kube_dir = root / "kubernetes"
    if kube_dir.is_dir():
        context.kubernetes = _read_kubernetes(kube_dir, report)
        _add_container_logs(context, report)
        if context.logs and "logs" in report.lacked:
            report.lacked.remove("logs")

    history = root / "history"
    if (history / "incidents").is_dir():
        context.history.extend(read_history_documents(history / "incidents", DocumentType.INCIDENT, report))
    if (history / "runbooks").is_dir():
        context.history.extend(read_history_documents(history / "runbooks", DocumentType.RUNBOOK, report))

    truth_path = root / "truth.json"
    if truth_path.is_file():
        try:
            report.truth = GroundTruth.model_validate(_read_json(truth_path))
        except (BundleError, ValueError) as e:
            report.problems.append(f"truth.json: {e}")
    return context, report
