"""Read-only Kubernetes evidence around an alert, through the official client.

For each object an alert names (``targets.targets_of``), ``KubernetesEvidenceCollector`` reads:

- a pod: the pod (status, last state), its events, the previous container's log of every container that
  restarted (``tailLines``, ``limitBytes``), its owners up the controller chain (ReplicaSet -> Deployment,
  Job -> CronJob, StatefulSet, DaemonSet) with their events, and its node with the node's events;
- a Deployment: the Deployment, its events, its recent rollouts (its ReplicaSets, newest revision first) and
  up to ``max_pods`` of its pods (least ready first), each as above; a StatefulSet, DaemonSet or Job: the
  object, its events and its pods; a CronJob: the CronJob and its newest Job;
- a node: the node (conditions) and its events.

Every request is a GET (``get``/``list``), namespaced except nodes and their events, bounded (``limit`` on
lists, ``tailLines``/``limitBytes`` on logs, ``timeout_s`` a request, ``budget_s`` an incident). Objects are
serialised back to the API's JSON (``ApiClient.sanitize_for_serialization``; ``managedFields`` and a node's
image list left out) as ``KubeText`` named ``live:<kind>/<ns>/<name>.json`` (``live:node/<name>.json``),
events ``live:events/<ns>/<object>.json``, rollouts ``live:replicasets/<ns>/<deployment>.json`` and logs
``live:logs/<ns>/<pod>/<container>.previous.log``; the log lines also go to ``logs[<workload>]``. A refusal
(403), a missing object (404), a timeout or a dead API server becomes a note, never an exception; once the
server is unreachable nothing more is asked.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client import ApiClient, AppsV1Api, BatchV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError

from bot.domain import Incident, KubeText
from bot.domain.workloads import workload_of_pod
from connectors.kubernetes.evidence.targets import KubeTarget, targets_of
from connectors.kubernetes.logs import split_log_text
from connectors.kubernetes.settings import KubernetesSettings

log = logging.getLogger(__name__)

_REVISION = "deployment.kubernetes.io/revision"
_KINDS = {"replicaset": "ReplicaSet", "deployment": "Deployment", "statefulset": "StatefulSet",
          "daemonset": "DaemonSet", "job": "Job", "cronjob": "CronJob"}
_API_VERSIONS = {"pod": ("Pod", "v1"), "node": ("Node", "v1"), **{k: (v, "apps/v1") for k, v in _KINDS.items()},
                 "job": ("Job", "batch/v1"), "cronjob": ("CronJob", "batch/v1")}
_FAR = timedelta(days=3650)  # previous-container logs are kept whatever their age


@dataclass
class KubeEvidence:
    texts: list[KubeText] = field(default_factory=list)
    logs: dict[str, list[str]] = field(default_factory=dict)  # workload -> previous containers' log lines
    notes: list[str] = field(default_factory=list)


class _Stop(Exception):
    """The API server is unreachable or the time budget is spent: ask nothing more."""


class KubernetesEvidenceCollector:
    """Reads the evidence of ``targets_of(incident)`` with an injected, configured ``ApiClient``."""

    def __init__(self, *, api_client: ApiClient, settings: KubernetesSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api_client = api_client
        self.settings = settings
        self.core = CoreV1Api(api_client)
        self.apps = AppsV1Api(api_client)
        self.batch = BatchV1Api(api_client)
        self.clock = clock

    def collect(self, incident: Incident) -> KubeEvidence:
        cfg = self.settings
        targets, notes = targets_of(incident, default_namespace=cfg.default_namespace, allowed=cfg.namespaces,
                                    limit=cfg.max_targets)
        run = _Run(self, deadline=self.clock() + cfg.budget_s)
        run.out.notes.extend(f"kubernetes: {n}" for n in notes)
        for target in targets:
            try:
                run.target(target)
            except _Stop:
                break
            except Exception as e:  # an answer shaped unlike the API's (a proxy, a partial object): note, go on
                log.warning("kubernetes evidence failed", extra={"target": target.name}, exc_info=True)
                run.note(f"{target.kind} {target.name}: not read ({e.__class__.__name__})")
        return run.out


class _Run:
    """One incident's collection: what was read, what failed, and the time left."""

    def __init__(self, collector: KubernetesEvidenceCollector, *, deadline: float) -> None:
        self.c = collector
        self.cfg = collector.settings
        self.deadline = deadline
        self.seen: set[str] = set()
        self.top: dict[str, str] = {}  # controller key -> the name of the workload at the top of its chain
        self.out = KubeEvidence()

    # ---- targets ---------------------------------------------------------------------------------------------
    def target(self, target: KubeTarget) -> None:
        ns = target.namespace or ""
        if target.kind == "pod":
            self.pod(ns, target.name)
        elif target.kind == "node":
            self.node(target.name)
        elif target.kind == "workload":
            self.workload_by_name(ns, target.name)
        else:
            self.owner(target.kind, ns, target.name, with_pods=True)

    def workload_by_name(self, ns: str, name: str) -> None:
        """An application alert naming a service: the Deployment, StatefulSet or DaemonSet of that name."""
        for kind in ("deployment", "statefulset", "daemonset"):
            if self.owner(kind, ns, name, with_pods=True, quiet_missing=True) is not None:
                return
        self.note(f"no Deployment, StatefulSet or DaemonSet {ns}/{name} (the alert's service)")

    def pod(self, ns: str, name: str, pod: Any = None) -> str:
        """Read a pod and everything around it; the name of its workload."""
        if pod is None:
            pod = self.call(f"pod {ns}/{name}", self.c.core.read_namespaced_pod, name, ns)
        workload = workload_of_pod(name)
        if pod is None or not self.first(f"pod/{ns}/{name}"):
            return workload
        self.keep("pod", ns, name, pod)
        self.events(ns, "Pod", name)
        owner = _controller(pod.metadata)
        if owner is not None:
            workload = self.owner(owner.kind.lower(), ns, owner.name, with_pods=False) or workload
        status = pod.status
        statuses = [*(status.init_container_statuses or []), *(status.container_statuses or [])] if status else []
        for container in statuses:
            if (container.restart_count or 0) > 0 or (container.last_state and container.last_state.terminated):
                self.previous_log(ns, name, container.name, workload)
        if pod.spec and pod.spec.node_name:
            self.node(pod.spec.node_name)
        return workload

    def owner(self, kind: str, ns: str, name: str, *, with_pods: bool, quiet_missing: bool = False) -> str | None:
        """Read a controller (and its own controller); the top workload's name, None when it was not read."""
        reader = {"replicaset": self.c.apps.read_namespaced_replica_set,
                  "deployment": self.c.apps.read_namespaced_deployment,
                  "statefulset": self.c.apps.read_namespaced_stateful_set,
                  "daemonset": self.c.apps.read_namespaced_daemon_set,
                  "job": self.c.batch.read_namespaced_job,
                  "cronjob": self.c.batch.read_namespaced_cron_job}.get(kind)
        if reader is None:
            return None
        key = f"{kind}/{ns}/{name}"
        if key in self.seen:
            return self.top.get(key, name)
        obj = self.call(f"{kind} {ns}/{name}", reader, name, ns, quiet_missing=quiet_missing)
        if obj is None:
            return None
        self.seen.add(key)
        self.keep(kind, ns, name, obj)
        self.events(ns, obj.kind or _KINDS[kind], name)
        top = name
        parent = _controller(obj.metadata)
        if parent is not None and parent.kind.lower() in {"deployment", "cronjob"}:
            top = self.owner(parent.kind.lower(), ns, parent.name, with_pods=False) or parent.name
        self.top[key] = top  # before its pods are read: they ask for it
        if kind == "deployment":
            self.rollouts(ns, name, obj)
        if kind == "cronjob" and with_pods:
            self.newest_job(ns, obj)
        elif with_pods:
            self.pods_of(ns, obj)
        return top

    def node(self, name: str) -> None:
        if not self.first(f"node/{name}"):
            return
        node = self.call(f"node {name}", self.c.core.read_node, name)
        if node is None:
            return
        data = self.serialise(node)
        data.get("status", {}).pop("images", None)  # hundreds of image names: no evidence
        self.out.texts.append(KubeText(name=f"live:node/{name}.json", text=json.dumps(data, indent=2)))
        self.events("default", "Node", name, label=name)  # node events are recorded in "default"

    # ---- lists -----------------------------------------------------------------------------------------------
    def events(self, ns: str, kind: str, name: str, *, label: str | None = None) -> None:
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        events = self.call(f"events of {kind.lower()} {name}", self.c.core.list_namespaced_event, ns,
                           field_selector=selector, limit=self.cfg.max_events)
        if events is None or not events.items:
            return
        events.items.sort(key=_event_time)
        where = label or f"{ns}/{name}"
        self.out.texts.append(KubeText(name=f"live:events/{where}.json",
                                       text=json.dumps(self.serialise(events), indent=2)))

    def rollouts(self, ns: str, name: str, deployment: Any) -> None:
        """The Deployment's ReplicaSets (one per rollout), newest revision first."""
        selector = _selector(deployment)
        if selector is None:
            return
        sets = self.call(f"replicasets of deployment {ns}/{name}", self.c.apps.list_namespaced_replica_set, ns,
                         label_selector=selector, limit=100)
        if sets is None:
            return
        uid = deployment.metadata.uid
        owned = [rs for rs in sets.items if any(o.uid == uid for o in rs.metadata.owner_references or [])]
        owned.sort(key=_revision, reverse=True)
        data = {"apiVersion": "apps/v1", "kind": "ReplicaSetList",
                "items": [self.serialise(rs) for rs in owned[: self.cfg.max_replicasets]]}
        self.out.texts.append(KubeText(name=f"live:replicasets/{ns}/{name}.json", text=json.dumps(data, indent=2)))

    def pods_of(self, ns: str, workload: Any) -> None:
        selector = _selector(workload)
        if selector is None:
            self.note(f"{workload.kind} {ns}/{workload.metadata.name} selects pods by expressions only; pods not read")
            return
        pods = self.call(f"pods of {ns}/{workload.metadata.name}", self.c.core.list_namespaced_pod, ns,
                         label_selector=selector, limit=max(self.cfg.max_pods * 5, 20))
        if pods is None:
            return
        for pod in sorted(pods.items, key=_least_ready)[: self.cfg.max_pods]:
            self.pod(ns, pod.metadata.name, pod)

    def newest_job(self, ns: str, cronjob: Any) -> None:
        jobs = self.call(f"jobs in {ns}", self.c.batch.list_namespaced_job, ns, limit=100)
        if jobs is None:
            return
        uid = cronjob.metadata.uid
        owned = [j for j in jobs.items if any(o.uid == uid for o in j.metadata.owner_references or [])]
        if owned:
            newest = max(owned, key=lambda j: j.metadata.creation_timestamp or datetime.min.replace(tzinfo=UTC))
            self.owner("job", ns, newest.metadata.name, with_pods=True)

    def previous_log(self, ns: str, pod: str, container: str, workload: str) -> None:
        text = self.call(f"previous log of {ns}/{pod}/{container}", self.c.core.read_namespaced_pod_log, pod, ns,
                         container=container, previous=True, tail_lines=self.cfg.log_lines,
                         limit_bytes=self.cfg.max_log_bytes, timestamps=True, quiet_missing=True)
        if not text:
            return
        text = str(text)[: self.cfg.max_log_bytes]
        self.out.texts.append(KubeText(name=f"live:logs/{ns}/{pod}/{container}.previous.log", text=text))
        now = datetime.now(UTC)
        self.out.logs.setdefault(workload, []).extend(split_log_text(text, start=now - _FAR, end=now + _FAR))

    # ---- plumbing --------------------------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[..., Any], *args: Any, quiet_missing: bool = False, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` bounded by the request timeout; a failure becomes a note and None."""
        left = self.deadline - self.c.clock()
        if left <= 0:
            self.note(f"time budget of {self.cfg.budget_s:g} s spent; {what} and the rest not read "
                      "(kubernetes.budget_s)")
            raise _Stop
        try:
            return fn(*args, _request_timeout=min(self.cfg.timeout_s, left), **kwargs)
        except ApiException as e:
            if e.status == 404 and quiet_missing:
                return None
            self.note(_refusal(what, e))
        except (HTTPError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            timed_out = isinstance(reason, TimeoutError | ReadTimeoutError | ConnectTimeoutError)
            if timed_out and not isinstance(reason, NewConnectionError):  # (a subclass of ConnectTimeoutError)
                self.note(f"the API server did not answer {what} within {self.cfg.timeout_s:g} s; nothing more read "
                          "(kubernetes.timeout_s)")
            else:
                self.note(f"the API server is unreachable ({reason.__class__.__name__}) while reading {what}; "
                          "nothing more read (check kubernetes.kubeconfig / in-cluster credentials)")
            raise _Stop from e
        except (ValueError, TypeError) as e:  # an answer the client's models cannot read
            self.note(f"{what}: answer not understood ({e.__class__.__name__})")
        return None

    def note(self, text: str) -> None:
        line = f"kubernetes: {text}"[:500]
        log.info("kubernetes evidence incomplete", extra={"note": line})
        if line not in self.out.notes:
            self.out.notes.append(line)

    def first(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def keep(self, kind: str, ns: str, name: str, obj: Any) -> None:
        data = self.serialise(obj)
        full_kind, api_version = _API_VERSIONS[kind]  # items of a list come without them
        data = {"apiVersion": data.pop("apiVersion", None) or api_version, "kind": data.pop("kind", None) or full_kind,
                **data}
        self.out.texts.append(KubeText(name=f"live:{kind}/{ns}/{name}.json", text=json.dumps(data, indent=2)))

    def serialise(self, obj: Any) -> dict[str, Any]:
        data: dict[str, Any] = self.c.api_client.sanitize_for_serialization(obj)
        for item in [data, *data.get("items", [])]:
            if isinstance(item.get("metadata"), dict):
                item["metadata"].pop("managedFields", None)
        return data


def _refusal(what: str, e: ApiException) -> str:
    if e.status == 403:
        return f"forbidden to read {what} (403); grant get/list on it (docs/integrations.md, Kubernetes evidence)"
    if e.status == 404:
        return f"{what} not found (404)"
    if e.status == 401:
        return f"not authenticated reading {what} (401); check the credentials"
    return f"{what}: the API answered {e.status} {e.reason or ''}".strip()


def _controller(metadata: Any) -> Any:
    refs = getattr(metadata, "owner_references", None) or []
    return next((r for r in refs if r.controller), refs[0] if refs else None)


def _selector(workload: Any) -> str | None:
    selector = getattr(workload.spec, "selector", None)
    labels = getattr(selector, "match_labels", None) or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


def _revision(rs: Any) -> int:
    value = (rs.metadata.annotations or {}).get(_REVISION, "0")
    return int(value) if str(value).isdigit() else 0


def _least_ready(pod: Any) -> tuple[int, int]:
    statuses = (pod.status.container_statuses or []) if pod.status else []
    ready = all(s.ready for s in statuses) and bool(statuses)
    return (1 if ready else 0, -sum(s.restart_count or 0 for s in statuses))


def _event_time(event: Any) -> datetime:
    when = event.last_timestamp or event.event_time or event.first_timestamp or event.metadata.creation_timestamp
    if when is None:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
