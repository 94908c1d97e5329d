"""Check a folder against the evidence-bundle format (ARCHITECTURE.md "Evidence bundles").

``validate_bundle(path)`` returns a list of problems, empty when the bundle is well formed. It checks
every part that is present (all but ``alert.json`` are optional), recognises the five vendor alert
formats (anything else must at least be a JSON object), and checks that ``truth.json`` speaks the
shared vocabulary and names a component the bundle's evidence mentions.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.domain.vocabulary import CATEGORY_OF_KIND, Category

_INCIDENT_KEYS = ("id", "title", "date", "services", "category", "root_cause_service", "root_cause_kind",
                  "resolution", "url")
_RUNBOOK_KEYS = ("title", "services", "kinds", "url")
_TS_PATTERNS = (
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}"),  # ISO-8601 / postgres / rabbitmq
    re.compile(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]"),  # nginx access
    re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \["),  # nginx error
    re.compile(r"^<\d+>1 \d{4}-\d{2}-\d{2}T"),  # RFC 5424
    re.compile(r'"time(stamp)?":\s*"?\d'),  # JSON lines
    re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ "),  # BSD syslog
    re.compile(r"^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}\] "),  # dmesg -T
)
SHORT_LOG_LINES = 40  # a crash's last lines (kubectl logs --previous) may carry no timestamp at all
_KUBE_KINDS = (  # what a kubectl output file must look like, by its first line
    ("describe", re.compile(r"^Name:\s+\S")),
    ("events table", re.compile(r"^(NAMESPACE\s+)?LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE")),
    ("get table", re.compile(r"^NAME\s+\S")),
    ("yaml", re.compile(r"^apiVersion: ")),
    ("json", re.compile(r"^\{")),
    ("logs", re.compile(r"^\$ kubectl logs ")),
)


def detect_vendor(alert: dict[str, Any]) -> str:
    """alertmanager | grafana | pagerduty | opsgenie | datadog | generic."""
    if isinstance(alert.get("event"), dict) and "event_type" in alert["event"]:
        return "pagerduty"
    if "action" in alert and isinstance(alert.get("alert"), dict):
        return "opsgenie"
    if {"body", "event_type", "title"} <= set(alert):
        return "datadog"
    if isinstance(alert.get("alerts"), list):
        return "grafana" if str(alert.get("version")) == "1" or "orgId" in alert else "alertmanager"
    return "generic"


def _check_alert(path: Path, problems: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        problems.append("alert.json is missing (the only required part)")
        return None
    try:
        alert = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(f"alert.json is not valid JSON: {e}")
        return None
    if not isinstance(alert, dict):
        problems.append("alert.json must hold a JSON object")
        return None
    vendor = detect_vendor(alert)
    required: dict[str, tuple[str, ...]] = {
        "alertmanager": ("version", "status", "receiver", "alerts", "groupLabels", "commonLabels", "externalURL"),
        "grafana": ("version", "status", "receiver", "alerts", "orgId", "title", "state"),
        "datadog": ("body", "last_updated", "event_type", "title", "date", "org", "id"),
        "opsgenie": ("action", "alert", "source", "integrationName"),
        "pagerduty": ("event",),
    }
    for key in required.get(vendor, ()):
        if key not in alert:
            problems.append(f"alert.json ({vendor}) lacks '{key}'")
    if vendor in ("alertmanager", "grafana"):
        if not alert.get("alerts"):
            problems.append(f"alert.json ({vendor}) has no alerts")
        for i, item in enumerate(alert.get("alerts") or []):
            for key in ("status", "labels", "annotations", "startsAt", "fingerprint"):
                if key not in item:
                    problems.append(f"alert.json alerts[{i}] lacks '{key}'")
            if "startsAt" in item and not _parse_ts(str(item["startsAt"])):
                problems.append(f"alert.json alerts[{i}].startsAt is not ISO-8601: {item['startsAt']!r}")
    elif vendor == "pagerduty":
        event = alert["event"]
        for key in ("id", "event_type", "resource_type", "occurred_at", "data"):
            if key not in event:
                problems.append(f"alert.json (pagerduty) event lacks '{key}'")
    elif vendor == "opsgenie":
        for key in ("alertId", "message", "createdAt"):
            if key not in alert["alert"]:
                problems.append(f"alert.json (opsgenie) alert lacks '{key}'")
    return alert


def _parse_ts(text: str) -> datetime | None:
    text = text.strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        value = float(text)
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value)
    try:
        if "." in text and text.endswith("Z"):
            head, frac = text[:-1].split(".", 1)
            text = f"{head}.{frac[:6]}+00:00"
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _check_logs(folder: Path, problems: list[str]) -> set[str]:
    names: set[str] = set()
    if not folder.is_dir():
        return names
    for path in sorted(folder.iterdir()):
        if path.suffix != ".log":
            problems.append(f"logs/{path.name}: expected logs/<service>.log")
            continue
        names.add(path.stem)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            problems.append(f"logs/{path.name} is not UTF-8 text")
            continue
        heads = [ln for ln in lines if ln and not ln.startswith(("\t", " "))][:20]
        if len(lines) > SHORT_LOG_LINES and heads and not any(p.search(h) for h in heads for p in _TS_PATTERNS):
            problems.append(f"logs/{path.name}: no timestamp found in its first lines")
    return names


def _check_metrics(folder: Path, problems: list[str]) -> set[str]:
    names: set[str] = set()
    if not folder.is_dir():
        return names
    for path in sorted(folder.iterdir()):
        if path.suffix == ".json":
            continue  # a Prometheus query_range response; the connector checks its own format
        parts = path.name.split(".")
        if path.suffix != ".csv" or len(parts) < 3:
            problems.append(f"metrics/{path.name}: expected metrics/<service>.<metric>.csv")
            continue
        names.add(".".join(parts[:-2]))
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        if not rows or [c.strip() for c in rows[0]] != ["timestamp", "value"]:
            problems.append(f"metrics/{path.name}: header must be 'timestamp,value'")
            continue
        if len(rows) < 2:
            problems.append(f"metrics/{path.name}: no data rows")
        previous: datetime | None = None
        for n, row in enumerate(rows[1:], start=2):
            if len(row) != 2:
                problems.append(f"metrics/{path.name}:{n}: expected 2 columns")
                break
            ts = _parse_ts(row[0])
            try:
                float(row[1])
            except ValueError:
                problems.append(f"metrics/{path.name}:{n}: value {row[1]!r} is not a number")
                break
            if ts is None:
                problems.append(f"metrics/{path.name}:{n}: timestamp {row[0]!r} is neither ISO-8601 nor epoch")
                break
            if previous is not None and ts <= previous:
                problems.append(f"metrics/{path.name}:{n}: timestamps must increase")
                break
            previous = ts
    return names


def _check_events(path: Path, problems: list[str]) -> set[str]:
    names: set[str] = set()
    if not path.is_file():
        return names
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"events.jsonl:{n}: not JSON")
            continue
        missing = [k for k in ("ts", "kind", "service", "text") if k not in event]
        if missing:
            problems.append(f"events.jsonl:{n}: lacks {', '.join(missing)}")
            continue
        if not _parse_ts(str(event["ts"])):
            problems.append(f"events.jsonl:{n}: ts {event['ts']!r} is not ISO-8601")
        if event["service"]:
            names.add(str(event["service"]))
    return names


def _front_matter(path: Path, problems: list[str], rel: str) -> dict[str, Any] | None:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        problems.append(f"{rel}: no YAML front matter")
        return None
    end = text.find("\n---", 4)
    if end < 0:
        problems.append(f"{rel}: front matter is not closed by '---'")
        return None
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as e:
        problems.append(f"{rel}: front matter is not valid YAML: {e}")
        return None
    if not isinstance(meta, dict):
        problems.append(f"{rel}: front matter must be a mapping")
        return None
    if not text[end + 4:].strip():
        problems.append(f"{rel}: no Markdown body")
    return meta


def _check_history(folder: Path, problems: list[str]) -> None:
    categories = {c.value for c in Category}
    for path in sorted((folder / "incidents").glob("*.md")) if (folder / "incidents").is_dir() else []:
        rel = f"history/incidents/{path.name}"
        meta = _front_matter(path, problems, rel)
        if meta is None:
            continue
        for key in _INCIDENT_KEYS:
            if key not in meta:
                problems.append(f"{rel}: front matter lacks '{key}'")
        if meta.get("category") not in categories:
            problems.append(f"{rel}: category {meta.get('category')!r} is not in the vocabulary")
        kind = meta.get("root_cause_kind")
        if kind is not None and kind not in CATEGORY_OF_KIND:
            problems.append(f"{rel}: root_cause_kind {kind!r} is not in the vocabulary")
        if not isinstance(meta.get("services", []), list):
            problems.append(f"{rel}: services must be a list")
    for path in sorted((folder / "runbooks").glob("*.md")) if (folder / "runbooks").is_dir() else []:
        rel = f"history/runbooks/{path.name}"
        meta = _front_matter(path, problems, rel)
        if meta is None:
            continue
        for key in _RUNBOOK_KEYS:
            if key not in meta:
                problems.append(f"{rel}: front matter lacks '{key}'")
        if any(k not in CATEGORY_OF_KIND for k in meta.get("kinds") or []):
            problems.append(f"{rel}: kinds must come from the vocabulary")


def _check_kubernetes(folder: Path, problems: list[str]) -> str:
    """Each file is kubectl output: describe, an events or get table, YAML/JSON, or logs (anything else that is
    text is taken as container logs). Returns the folder's text, where truth's service must appear."""
    texts: list[str] = []
    if not folder.is_dir():
        return ""
    for path in sorted(folder.iterdir()):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            problems.append(f"kubernetes/{path.name} is not UTF-8 text")
            continue
        if not text.strip():
            problems.append(f"kubernetes/{path.name} is empty")
            continue
        first = text.lstrip().splitlines()[0]
        if first.startswith("Name:") and ("Containers:" in text or "Capacity:" in text) and "Events:" not in text:
            problems.append(f"kubernetes/{path.name}: a describe without its Events section")
        if first.startswith("apiVersion:"):
            try:
                doc = yaml.safe_load(text)
            except yaml.YAMLError as e:
                problems.append(f"kubernetes/{path.name}: not valid YAML: {e}")
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                problems.append(f"kubernetes/{path.name}: a Kubernetes object needs a kind")
        if first.strip() == "{":  # kubectl -o json (pretty-printed); one-line JSON objects are container log lines
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as e:
                problems.append(f"kubernetes/{path.name}: not valid JSON: {e}")
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                problems.append(f"kubernetes/{path.name}: a Kubernetes object needs a kind")
        texts.append(text)
    return "\n".join(texts)


def kube_file_kind(text: str) -> str:
    """describe | events table | get table | yaml | json | logs: what a kubectl output file holds."""
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return next((name for name, pattern in _KUBE_KINDS if pattern.search(first)), "logs")


def validate_bundle(path: str | Path) -> list[str]:
    """Problems with the bundle at ``path``; an empty list means it follows the format."""
    root = Path(path)
    if not root.is_dir():
        return [f"{root} is not a folder"]
    problems: list[str] = []
    _check_alert(root / "alert.json", problems)
    names = _check_logs(root / "logs", problems)
    names |= _check_metrics(root / "metrics", problems)
    names |= _check_events(root / "events.jsonl", problems)
    topo_path = root / "topology.json"
    if topo_path.is_file():
        try:
            topo = json.loads(topo_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            problems.append(f"topology.json is not valid JSON: {e}")
            topo = {}
        if not isinstance(topo, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
                for k, v in topo.items()):
            problems.append("topology.json must map each service to a list of dependency names")
        else:
            names |= set(topo) | {d for deps in topo.values() for d in deps}
    kube_text = _check_kubernetes(root / "kubernetes", problems)
    if (root / "history").is_dir():
        _check_history(root / "history", problems)
    truth_path = root / "truth.json"
    if truth_path.is_file():
        _check_truth(truth_path, names, problems, kube_text)
    return problems


def _check_truth(path: Path, names: set[str], problems: list[str], kube_text: str = "") -> None:
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        problems.append(f"truth.json is not valid JSON: {e}")
        return
    for key in ("category", "root_cause_service", "root_cause_kind", "keywords"):
        if key not in truth:
            problems.append(f"truth.json lacks '{key}'")
    kind = truth.get("root_cause_kind")
    if kind not in CATEGORY_OF_KIND:
        problems.append(f"truth.json: root_cause_kind {kind!r} is not in the vocabulary")
    elif CATEGORY_OF_KIND[kind].value != truth.get("category"):
        problems.append(f"truth.json: category {truth.get('category')!r} does not match kind {kind!r}")
    if not isinstance(truth.get("keywords", []), list):
        problems.append("truth.json: keywords must be a list")
    service = truth.get("root_cause_service")
    if (names or kube_text) and service not in names and not (service and str(service) in kube_text):
        problems.append(f"truth.json: root_cause_service {service!r} appears nowhere in the evidence")
