"""Which Kubernetes objects an incident's alerts point at (pure: labels in, targets out).

An alert names a pod (``pod``, Datadog's ``pod_name``, ...), a workload (``deployment``, ``statefulset``,
``daemonset``, ``job_name``, ``cronjob``) or a node, per ``connectors.alerts.common.kubernetes_refs``; an
application alert that names only a namespace and a service is read as a workload of that name (the
Deployment, StatefulSet or DaemonSet that exists). Names are checked against the API's own naming rules
before any request: a label is attacker-controlled text and must not reach a field selector or a URL
unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.domain import Incident
from connectors.alerts.common import kubernetes_refs

Kind = Literal["pod", "deployment", "statefulset", "daemonset", "job", "cronjob", "node", "workload"]

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")  # object names (RFC 1123 subdomain)
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # namespaces, container names
_WORKLOAD_KINDS: tuple[Kind, ...] = ("deployment", "statefulset", "daemonset", "job", "cronjob")


@dataclass(frozen=True)
class KubeTarget:
    """One object to read around: ``namespace`` is None for a node; ``workload`` is a guess by name."""

    kind: Kind
    name: str
    namespace: str | None = None
    container: str | None = None


def valid_name(name: str) -> bool:
    return bool(_DNS_SUBDOMAIN.fullmatch(name))


def valid_label(name: str) -> bool:
    return bool(_DNS_LABEL.fullmatch(name))


def targets_of(incident: Incident, *, default_namespace: str, allowed: list[str],
               limit: int) -> tuple[list[KubeTarget], list[str]]:
    """The distinct objects the incident's alerts name (firing alerts first), at most ``limit``, and notes on
    the names that were not used (not a valid name, a namespace outside ``allowed``)."""
    found: dict[KubeTarget, None] = {}
    notes: list[str] = []
    alerts = sorted(incident.alerts, key=lambda a: a.status != "firing")
    for alert in alerts:
        target, problem = _target(kubernetes_refs(alert.labels), alert.service or incident.service,
                                  default_namespace=default_namespace, allowed=allowed)
        if problem and problem not in notes:
            notes.append(problem)
        if target is not None:
            found.setdefault(target, None)
    targets = list(found)
    if len(targets) > limit:
        notes.append(f"{len(targets) - limit} more Kubernetes objects named by the alerts were not read "
                     "(kubernetes.max_targets)")
    return targets[:limit], notes


def _target(refs: dict[str, str], service: str | None, *, default_namespace: str,
            allowed: list[str]) -> tuple[KubeTarget | None, str | None]:
    namespace = refs.get("namespace") or default_namespace
    if "pod" in refs:
        target = KubeTarget("pod", refs["pod"], namespace, refs.get("container"))
    elif kind := next((k for k in _WORKLOAD_KINDS if k in refs), None):
        target = KubeTarget(kind, refs[kind], namespace)
    elif "node" in refs:
        target = KubeTarget("node", refs["node"])
    elif service and "namespace" in refs:
        target = KubeTarget("workload", service, namespace)
    else:
        return None, None
    return _checked(target, allowed)


def _checked(target: KubeTarget, allowed: list[str]) -> tuple[KubeTarget | None, str | None]:
    what = f"{target.kind} {target.name!r}"
    if not valid_name(target.name):
        return None, f"{what} is not a valid Kubernetes name; not read"
    if target.namespace is not None:
        if not valid_label(target.namespace):
            return None, f"namespace {target.namespace!r} of {what} is not a valid namespace name; not read"
        if allowed and target.namespace not in allowed:
            return None, f"namespace {target.namespace!r} of {what} is not in kubernetes.namespaces; not read"
    if target.container is not None and not valid_label(target.container):
        target = KubeTarget(target.kind, target.name, target.namespace)
    return target, None
