"""Container log text (``kubectl logs [--previous]``) by workload, for the log detectors.

The workload comes from the text itself when it names the pod (the ``kubectl logs <pod>`` command above it,
``--prefix`` lines), else from a pod described in the same bundle, else from the file name."""

from __future__ import annotations

import re

from bot.domain import KubeText
from bot.domain.workloads import workload_of_pod
from detectors.kubernetes.log_forms import owner
from detectors.kubernetes.model import ContainerLog, Findings
from detectors.kubernetes.parse import parse_all
from detectors.kubernetes.resolve import Resolver

_LIVE = re.compile(r"^live:logs/(?:[^/]+/)?(?P<pod>[^/]+)/[^/]+$")
_A_NAME = re.compile(r"[a-z]{2}", re.IGNORECASE)  # a workload's name has letters; a counter or a date has none
_NAME_NOISE = re.compile(r"(?i)(?:^|[-_.])(?:kubectl|logs?|previous|prev|current|output|txt|out)(?=$|[-_.])")


def container_logs(kube_texts: list[KubeText], services: tuple[str, ...] | list[str] = ()) -> dict[str, list[str]]:
    """Workload -> log lines of every KubeText recognised as container logs (previous logs first); logs whose
    workload nothing names are under "" (the caller knows the incident's service). ``services``: the incident's
    other known services (its topology), for a database's log pasted without its command when the kubectl outputs
    name no such database."""
    findings = parse_all(kube_texts)
    return logs_by_workload(findings, Resolver(findings), services)


def logs_by_workload(findings: Findings, resolver: Resolver,
                     services: tuple[str, ...] | list[str] = ()) -> dict[str, list[str]]:
    known = sorted(resolver.pods)
    workloads = sorted({resolver.workload_of_pod(p) for p in known})
    out: dict[str, list[str]] = {}
    for item in sorted(findings.logs, key=lambda log: not log.previous):
        out.setdefault(_workload(item, resolver, known, workloads, services), []).extend(item.lines)
    return out


def _workload(item: ContainerLog, resolver: Resolver, pods: list[str], workloads: list[str],
              services: tuple[str, ...] | list[str] = ()) -> str:
    if item.pod:
        return resolver.workload_of_pod(item.pod)
    live = _LIVE.match(item.origin)
    if live:
        return resolver.workload_of_pod(live.group("pod"))
    if item.form:  # a piece cut from a paste of several logs: whose it is comes from what it says
        said = owner(item.form, item.lines, resolver.workloads(), {p: resolver.workload_of_pod(p) for p in pods},
                     services)
        if said:
            return said
    name = item.origin.rsplit("/", 1)[-1]
    named = [p for p in pods if p in name]
    if named:
        return resolver.workload_of_pod(max(named, key=len))
    if len(workloads) == 1:
        return workloads[0]
    named = [w for w in workloads if w in name]
    if named:
        return max(named, key=len)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _NAME_NOISE.sub("", stem).strip("-_.")
    # a file called "1.txt" or "2024-05-01.log" names nothing: its lines go to the incident's service
    return workload_of_pod(stem) if _A_NAME.search(stem) else ""
