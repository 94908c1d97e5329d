"""Helpers shared by the vendor payload parsers (pure functions).

- Times: ``to_time`` reads any value a payload may hold (ISO-8601, RFC 2822, epoch s/ms/us/ns as a number or a
  string) and never raises; ``set_start`` applies the first readable start time to an alert, or keeps the
  receive time and says so in the ``time_note`` annotation.
- Services: ``resolve_service`` names the workload, host or job an alert is about from its labels (see its
  docstring for the preference order); every vendor parser calls it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import IntEnum
from typing import Any, NamedTuple

from bot.domain import AlertStatus, PayloadError
from bot.domain.workloads import workload_of_job, workload_of_pod, workload_of_replicaset

# ---- times ---------------------------------------------------------------------------------------------------
TIME_NOTE = "time_note"  # annotation saying which start time could not be read (the receive time is kept)

_ZERO_TIMES = {"", "0", "null", "none"}  # and any time in year 1 (Go's zero time: "0001-01-01T00:00:00Z")
_MIN_YEAR, _MAX_YEAR = 1971, 2200  # outside: not an alert's time (an unset field, a unit mix-up, garbage)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def to_time(value: Any) -> datetime | None:
    """Any payload value -> an aware UTC-comparable datetime, or None when it is absent or not a plausible time.

    Reads ISO-8601 (``Z`` or an offset, up to nanoseconds, ``T`` or a space), RFC 2822 (``Wed, 03 Jun 2020
    20:43:04 +0000``) and epoch seconds, milliseconds, microseconds or nanoseconds as numbers or digit strings.
    Total: every input (NaN, 1e300, an object, a bool) gives a datetime or None, never an exception.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return _from_epoch(float(value))
        except OverflowError:  # an int past float's range
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _unset(text) or len(text) > 64:
        return None
    if _NUMBER.match(text):
        try:
            return _from_epoch(float(text))
        except (ValueError, OverflowError):
            return None
    return _from_iso(text) or _from_rfc2822(text)


def _unset(text: str) -> bool:
    stripped = text.strip()
    return stripped.lower() in _ZERO_TIMES or stripped.startswith("0001-01-01")


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number) or number <= 0:
        return None
    seconds = next((number / d for d in (1.0, 1e3, 1e6, 1e9) if number / d < 1e11), None)
    if seconds is None:
        return None
    return _plausible(lambda: datetime.fromtimestamp(seconds, tz=UTC))


def _from_iso(text: str) -> datetime | None:
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:  # Python reads at most microseconds: trim nanoseconds, keep the offset
        head, _, rest = text.partition(".")
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        text = f"{head}.{digits[:6]}{rest[len(digits):]}"
    return _plausible(lambda: datetime.fromisoformat(text))


def _from_rfc2822(text: str) -> datetime | None:
    return _plausible(lambda: parsedate_to_datetime(text))


def _plausible(make: Callable[[], datetime]) -> datetime | None:
    try:
        parsed = make()
    except (ValueError, OverflowError, OSError, TypeError, IndexError):
        return None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_time(value: Any, *, field: str = "") -> datetime | None:
    """``to_time`` (kept under this name for the parsers' end times): never raises; ``field`` is unused."""
    return to_time(value)


def first_time(candidates: list[tuple[str, Any]]) -> tuple[datetime | None, str | None]:
    """The first readable time among ``(field, value)`` pairs, and a note naming the fields that held
    something unreadable (None when every present field was read or none was present)."""
    unreadable: list[str] = []
    for field, value in candidates:
        if value is None or (isinstance(value, str) and _unset(value)):
            continue
        parsed = to_time(value)
        if parsed is not None:
            return parsed, None
        unreadable.append(f"{field}={_show(value)}")
    if not unreadable:
        return None, None
    return None, f"start time not readable ({', '.join(unreadable)}); the time Sherlog received it is used"


def set_start(alert: Any, candidates: list[tuple[str, Any]]) -> None:
    """Set ``alert.starts_at`` from the first readable candidate; otherwise keep the receive time and, when a
    candidate held something unreadable, say so in ``alert.annotations[TIME_NOTE]``."""
    parsed, note = first_time(candidates)
    if parsed is not None:
        alert.starts_at = parsed
    elif note:
        alert.annotations[TIME_NOTE] = note


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


# ---- services ------------------------------------------------------------------------------------------------
# Scrapers and exporters whose name lands in an alert's `service`/`job`/`container`/`pod` labels because they
# scraped the metric (kube-state-metrics reports on every Deployment; the kubelet/cAdvisor on every container):
# the exporter is where the number came from, not what the alert is about. A Helm release prefix is allowed
# (`prometheus-kube-state-metrics`, `kube-prometheus-stack-prometheus-node-exporter`).
SCRAPER_NAMES = frozenset({
    "kube-state-metrics", "node-exporter", "prometheus-node-exporter", "node_exporter", "node", "cadvisor",
    "kubelet", "prometheus", "prometheus-k8s", "blackbox-exporter", "prometheus-blackbox-exporter", "blackbox",
    "kube-rbac-proxy", "kube-rbac-proxy-main", "kube-rbac-proxy-self", "kubernetes-pods",
    "kubernetes-service-endpoints", "kubernetes-nodes", "kubernetes-nodes-cadvisor", "kubernetes-services",
    "kubernetes-apiservers", "otel-collector", "opentelemetry-collector", "datadog-agent", "pushgateway",
})
_SCRAPER_SUFFIXES = ("-kube-state-metrics", "-node-exporter", "-blackbox-exporter", "-cadvisor", "-kubelet",
                     "-prometheus", "-otel-collector", "-opentelemetry-collector", "-pushgateway")
# Exporters that report on the whole cluster: their `instance` is the exporter's own address, not a host at fault.
_CLUSTER_EXPORTERS = ("kube-state-metrics", "prometheus", "prometheus-k8s")
# Node and host alerts of kube-prometheus / node-exporter mixins and the common host rule sets (NodeJS is an app).
_NODE_ALERT = re.compile(r"^(KubeNode|Kubelet|Node(?!JS|Js)[A-Z]|Host[A-Z])|NodeNotReady|NodeDown")


def is_scraper(name: str | None) -> bool:
    """True when ``name`` is a known exporter/scraper job (optionally behind a release prefix)."""
    text = (name or "").strip().lower()
    return bool(text) and (text in SCRAPER_NAMES or text.endswith(_SCRAPER_SUFFIXES)
                           or text.startswith("kube-rbac-proxy"))


def host_of(address: str) -> str:
    """``10.0.3.17:9100`` -> ``10.0.3.17``; ``https://checkout.example.com:443/health`` -> the host;
    ``[fd00::1]:9100`` -> ``fd00::1``; a bare name is returned as it is."""
    text = address.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rsplit("@", 1)[-1]
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


_CLAIM_OF_STATEFUL_POD = re.compile(r"^[a-z0-9]+-(?P<name>[a-z0-9][a-z0-9-]*?)-\d{1,4}$")


def workload_of_claim(claim: str) -> str:
    """A StatefulSet's name for its volume claims (``<template>-<statefulset>-<ordinal>``: ``data-ledger-0``
    -> ``ledger``); any other claim name unchanged (it usually names its workload)."""
    match = _CLAIM_OF_STATEFUL_POD.match(claim.strip())
    return match.group("name") if match else claim.strip()


class Tier(IntEnum):
    """How strongly a label names what an alert is about (lower is stronger)."""

    APP = 1  # the application's own identity
    WORKLOAD = 2  # the Kubernetes object the alert is on
    WEAK = 3  # a container name, a component
    JOB = 4  # the scrape job of an application (not an exporter's)
    NODE = 5  # a node or host
    SCRAPER = 6  # only an exporter's name was found


def _same(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class LabelRule:
    """Label names (vendor spellings of one idea, first present wins) and how a value becomes a service."""

    tier: Tier
    keys: tuple[str, ...]
    derive: Callable[[str], str] = _same


# The preference order, strongest first. Spellings: Prometheus/kube-state-metrics (`deployment`, `job_name`,
# `exported_*` when a scrape renamed the metric's own label), Datadog tags (`kube_deployment`, `pod_name`),
# OpenTelemetry resource attributes (`k8s.deployment.name`, `service.name`) and recommended Kubernetes labels.
SERVICE_RULES: tuple[LabelRule, ...] = (
    LabelRule(Tier.APP, ("exported_service", "service", "service_name", "service.name")),
    LabelRule(Tier.APP, ("app.kubernetes.io/name", "app_kubernetes_io_name", "label_app_kubernetes_io_name",
                         "kube_app_name")),
    LabelRule(Tier.APP, ("app", "label_app", "k8s_app", "k8s-app", "label_k8s_app", "application")),
    LabelRule(Tier.WORKLOAD, ("deployment", "kube_deployment", "k8s.deployment.name")),
    LabelRule(Tier.WORKLOAD, ("statefulset", "kube_stateful_set", "k8s.statefulset.name")),
    LabelRule(Tier.WORKLOAD, ("daemonset", "kube_daemon_set", "k8s.daemonset.name")),
    LabelRule(Tier.WORKLOAD, ("cronjob", "kube_cronjob", "k8s.cronjob.name")),
    LabelRule(Tier.WORKLOAD, ("job_name", "kube_job", "k8s.job.name"), workload_of_job),
    LabelRule(Tier.WORKLOAD, ("replicaset", "kube_replica_set", "k8s.replicaset.name"), workload_of_replicaset),
    LabelRule(Tier.WORKLOAD, ("exported_pod", "pod", "pod_name", "kubernetes_pod_name", "kube_pod_name",
                              "k8s.pod.name"), workload_of_pod),
    LabelRule(Tier.WORKLOAD, ("horizontalpodautoscaler",)),
    LabelRule(Tier.WORKLOAD, ("persistentvolumeclaim", "kube_persistentvolumeclaim"), workload_of_claim),
    LabelRule(Tier.WEAK, ("exported_container", "container", "container_name", "kube_container_name",
                          "k8s.container.name")),
    LabelRule(Tier.WEAK, ("component",)),
    LabelRule(Tier.JOB, ("job",)),
    LabelRule(Tier.NODE, ("node", "exported_node", "kubernetes_node", "k8s.node.name", "nodename")),
    LabelRule(Tier.NODE, ("host", "hostname", "host.name", "instance"), host_of),
)
_NOT_A_SERVICE = {"pod", "", "<none>", "none", "null", "unknown", "1"}


class ServiceChoice(NamedTuple):
    service: str | None
    label: str | None  # the label it was read from
    tier: Tier | None


def resolve_service(labels: Mapping[str, str], *, alertname: str = "") -> ServiceChoice:
    """Name what an alert is about (a workload per docs/causes.md, a host, or a job) from its labels.

    Preference, first usable label wins:

    1. application identity: ``service`` (``exported_service``, ``service_name``, ``service.name``) unless it
       names a scraper (``is_scraper``) or is the Service of the exporter named by ``job``;
       ``app.kubernetes.io/name``; ``app`` / ``k8s_app`` / ``application``;
    2. the workload: ``deployment``, ``statefulset``, ``daemonset``, ``cronjob``, ``job_name`` (a CronJob's
       Job -> the CronJob), ``replicaset`` (-> its Deployment), ``pod`` (-> its owner by the controllers'
       naming rules), ``horizontalpodautoscaler``, ``persistentvolumeclaim`` (-> its StatefulSet); a workload
       that is itself a scraper is skipped;
    3. weaker: ``container``, ``component``;
    4. ``job`` when it is not a scraper;
    5. the host: ``node``, then ``host``/``instance`` with the port stripped (not the ``instance`` of a
       cluster-wide exporter such as kube-state-metrics: that is the exporter's own address);
    6. the scraper's name found in 1-4, so an alert about the exporter itself (``TargetDown``) still names it.

    For a node or host alert (``KubeNode*``, ``Node*``, ``Host*``, ``Kubelet*``) step 5 comes first.
    """
    job = labels.get("job", "")
    node_alert = is_node_alert(alertname or labels.get("alertname", ""))
    rules = sorted(SERVICE_RULES, key=lambda r: 0 if r.tier == Tier.NODE else 1) if node_alert else SERVICE_RULES
    fallback: ServiceChoice | None = None
    for rule in rules:
        for key in rule.keys:
            raw = labels.get(key)
            if raw is None or raw.strip().lower() in _NOT_A_SERVICE:
                continue
            if key == "instance" and any(job.lower().endswith(e) for e in _CLUSTER_EXPORTERS):
                continue
            value = rule.derive(raw)
            if not value:
                continue
            if is_scraper(value) or (rule.tier == Tier.APP and _is_exporter_service(value, job)):
                fallback = fallback or ServiceChoice(value, key, Tier.SCRAPER)
                continue
            return ServiceChoice(value, key, rule.tier)
    return fallback or ServiceChoice(None, None, None)


def is_node_alert(alertname: str) -> bool:
    """``KubeNodeNotReady``, ``NodeFilesystemSpaceFillingUp``, ``HostOutOfMemory``, ``KubeletDown``...: the machine."""
    return bool(_NODE_ALERT.search(alertname))


def names_the_subject(choice: ServiceChoice, *, alertname: str) -> bool:
    """True when a resolved name is better than a vendor's own grouping (a PagerDuty service, an Opsgenie
    entity): an application or workload, or the node of a node alert; not a bare job, host or scraper."""
    if choice.tier is None:
        return False
    return choice.tier <= Tier.WEAK or (choice.tier == Tier.NODE and is_node_alert(alertname))


def _is_exporter_service(service: str, job: str) -> bool:
    """A ``service`` label set by the scrape of an exporter: the same name as its scraper ``job``."""
    return is_scraper(job) and (service == job or service.endswith(job) or job.endswith(service))


# Where the Kubernetes object an alert is about is named, per vendor spelling (the `exported_` form first: the
# metric's own label when a scrape renamed it).
KUBERNETES_LABELS: dict[str, tuple[str, ...]] = {
    "namespace": ("exported_namespace", "namespace", "kube_namespace", "kubernetes_namespace", "k8s.namespace.name"),
    "pod": ("exported_pod", "pod", "pod_name", "kubernetes_pod_name", "kube_pod_name", "k8s.pod.name"),
    "container": ("exported_container", "container", "container_name", "kube_container_name", "k8s.container.name"),
    "node": ("node", "exported_node", "kubernetes_node", "kube_node", "k8s.node.name", "nodename"),
    "deployment": ("deployment", "kube_deployment", "k8s.deployment.name"),
    "statefulset": ("statefulset", "kube_stateful_set", "k8s.statefulset.name"),
    "daemonset": ("daemonset", "kube_daemon_set", "k8s.daemonset.name"),
    "job": ("job_name", "kube_job", "k8s.job.name"),
    "cronjob": ("cronjob", "kube_cronjob", "k8s.cronjob.name"),
}


def kubernetes_refs(labels: Mapping[str, str]) -> dict[str, str]:
    """The Kubernetes objects an alert's labels name, under one spelling: ``{"namespace": ..., "pod": ...}``.
    An exporter's own pod or container (kube-state-metrics scraped the metric) is left out."""
    refs: dict[str, str] = {}
    for kind, keys in KUBERNETES_LABELS.items():
        value = next((labels[k].strip() for k in keys if labels.get(k, "").strip()), "")
        if not value or (kind in {"pod", "container"} and is_scraper(workload_of_pod(value))):
            continue
        refs[kind] = value
    return refs


def service_from_labels(labels: Mapping[str, str], *, alertname: str = "") -> str | None:
    """``resolve_service``'s name only."""
    return resolve_service(labels, alertname=alertname).service

def text_or_none(value: Any) -> str | None:
    """A scalar field as text (an id, a URL); None for absent, empty, or not a scalar (an object, a list)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
        return None
    return str(value)


def as_list(value: Any) -> list[Any]:
    """A field that should be a list; anything else is no items."""
    return value if isinstance(value, list) else []


def str_dict(value: Any, *, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{field}: expected an object of strings, got {type(value).__name__}")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


@dataclass(frozen=True, slots=True)
class GroupItem:
    """One alert of an Alertmanager-shaped group notification (Alertmanager, Grafana unified alerting)."""

    where: str  # "alerts[i]", for error messages
    raw: dict[str, Any]
    labels: dict[str, str]  # the group's commonLabels under the alert's own
    annotations: dict[str, str]
    status: AlertStatus


def group_items(payload: dict[str, Any], *, where: str) -> list[GroupItem]:
    """The alerts of a group notification, each checked (an object, string labels and annotations, a firing or
    resolved status, the group's status when the alert has none)."""
    raw_alerts = require(payload, "alerts", list, where=where)
    common = str_dict(payload.get("commonLabels"), field="commonLabels")
    out: list[GroupItem] = []
    for i, item in enumerate(raw_alerts):
        at = f"alerts[{i}]"
        if not isinstance(item, dict):
            raise PayloadError(f"{at}: expected an object")
        labels = {**common, **str_dict(item.get("labels"), field=f"{at}.labels")}
        annotations = str_dict(item.get("annotations"), field=f"{at}.annotations")
        status_text = str(item.get("status") or payload.get("status") or "firing").lower()
        if status_text not in {"firing", "resolved"}:
            raise PayloadError(f"{at}.status: {status_text!r} is neither 'firing' nor 'resolved'")
        out.append(GroupItem(at, item, labels, annotations, AlertStatus(status_text)))
    return out


def require(payload: Any, key: str, kind: type, *, where: str) -> Any:
    if not isinstance(payload, dict):
        raise PayloadError(f"{where}: expected a JSON object")
    if key not in payload:
        raise PayloadError(f"{where}: missing field {key!r}")
    value = payload[key]
    if not isinstance(value, kind):
        raise PayloadError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


# ---- conventions shared by parsers and intake ---------------------------------------------------
# ``Alert.raw`` keys with a meaning for intake (everything else in ``raw`` is the vendor's, for display):
#   RAW_EXTERNAL_REFS: {"pagerduty": "<incident id>"} or {"opsgenie": "<alert id>"}, merged into
#                      ``Incident.external_refs`` so write-back knows where to post.
#   RAW_UPDATE_ONLY:   True when the notification changes no state (a note, an escalation, a priority
#                      change): it updates the alert it belongs to and never opens an incident.
#   RAW_NOTE:          the text of a note added in the vendor's tool.
#   RAW_LINKS:         {"dashboard": url, "panel": url, "silence": url, "image": url, "runbook": url}.
RAW_EXTERNAL_REFS = "external_refs"
RAW_UPDATE_ONLY = "update_only"
RAW_NOTE = "note"
RAW_LINKS = "links"


def epoch_any(value: Any, *, field: str = "") -> datetime | None:
    """Epoch in s/ms/us/ns (Opsgenie mixes them) or any other ``to_time`` form; never raises."""
    return to_time(value)


def tags_to_labels(tags: Any) -> dict[str, str]:
    """``["env:prod", "service:checkout", "vip"]`` or ``"env:prod,service:checkout"`` -> labels.

    A tag without a value becomes ``{"tag": "1"}``; keys and values are trimmed.
    """
    if isinstance(tags, dict):
        return {str(k).strip(): "" if v is None else str(v).strip() for k, v in tags.items()}
    if tags is None:
        return {}
    items = tags.split(",") if isinstance(tags, str) else list(tags) if isinstance(tags, list) else []
    labels: dict[str, str] = {}
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        key, sep, value = text.partition(":")
        if not sep:
            key, sep, value = text.partition("=")
        labels[key.strip()] = value.strip() if sep else "1"
    return labels


def clean_links(**links: Any) -> dict[str, str]:
    return {k: str(v) for k, v in links.items() if isinstance(v, str) and v.strip()}


def stable_fingerprint(alert: Any) -> str:
    """The domain's label-based fingerprint (``Alert.compute_fingerprint``) for an alert without one."""
    alert.fingerprint = ""
    return str(alert.compute_fingerprint())
