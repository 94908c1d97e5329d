"""``kubectl get pods`` / ``get nodes`` tables (default and ``-o wide``): a pod's STATUS column is its
container's waiting or terminated reason (``CrashLoopBackOff``, ``OOMKilled``) or the pod's own (``Evicted``);
a node's is its readiness. Other ``kubectl get`` tables are recognised so that they are not read as logs."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.workloads import workload_of_replicaset
from detectors.kubernetes import policies
from detectors.kubernetes.conditions import pile_up_event
from detectors.kubernetes.model import (
    ContainerState,
    ContainerStatus,
    Findings,
    KubeEvent,
    NodeCondition,
    NodeInfo,
    ObjectRef,
    PodInfo,
    Rollout,
)
from detectors.kubernetes.text import parse_age

_HEADER = re.compile(r"^(?:NAMESPACE\s{2,})?NAME\s{2,}[A-Z][A-Za-z0-9()/%._ -]*$")
_CELL = re.compile(r"\S+(?: \S+)*")
_RESTARTS = re.compile(r"^(?P<n>\d+)")
WAITING_REASONS = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                   "CreateContainerError", "InvalidImageName", "RunContainerError", "ErrImageNeverPull"}
TERMINATED_REASONS = {"OOMKilled", "Error", "ContainerCannotRun", "StartError", "DeadlineExceeded"}
POD_REASONS = {"Evicted", "OutOfcpu", "OutOfmemory", "OutOfpods", "NodeAffinity", "NodeLost", "UnexpectedAdmissionError"}


def is_table(text: str) -> bool:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return is_table_header(first)


def is_table_header(line: str) -> bool:
    """A ``kubectl get``/``top`` table's header line (``NAME  READY  STATUS ...``, ``NAMESPACE  NAME ...``)."""
    return bool(_HEADER.match(line.rstrip()))


def parse_table(text: str, *, namespace: str = "", origin: str = "") -> Findings:
    """Every table in ``text``: ``kubectl get pods,svc,endpoints`` prints one table a resource type, each under
    its own header and with names prefixed by the type (``pod/x``)."""
    findings = Findings()
    for block in _blocks(text):
        findings.extend(_parse_one_table(block, namespace=namespace, origin=origin))
    return findings


def _blocks(text: str) -> list[str]:
    blocks: list[list[str]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if not blocks or _HEADER.match(line.rstrip()):
            blocks.append([])
        blocks[-1].append(line)
    return ["\n".join(block) for block in blocks]


_TYPED_NAME = re.compile(r"^(?P<type>[a-z][\w.-]*)/(?P<name>[\w.-]+)$")


def _untyped(name: str, types: tuple[str, ...]) -> str:
    """``pod/x`` -> ``x`` when its type is one of ``types``; a name of another type -> ""; a plain name as is."""
    match = _TYPED_NAME.match(name)
    if match is None:
        return name
    return match["name"] if match["type"].split(".", 1)[0] in types else ""


def _parse_one_table(text: str, *, namespace: str = "", origin: str = "") -> Findings:
    lines = [line for line in text.split("\n") if line.strip()]
    columns = [(m.group(0), m.start()) for m in _CELL.finditer(lines[0])] if lines else []
    names = [name for name, _ in columns]
    findings = Findings()
    if {"NAME", "UID"} <= set(names):  # custom columns with the objects' UIDs (a preemption event names one)
        for row in lines[1:]:
            cells = _cells(row, columns)
            if cells.get("UID") and cells.get("NAME"):
                findings.uids[cells["UID"]] = cells["NAME"].rsplit("/", 1)[-1]
    if "READY" in names and "STATUS" in names and "RESTARTS" in names:
        for row in lines[1:]:
            _pod_row(_cells(row, columns), findings, namespace)
    elif "STATUS" in names and ("ROLES" in names or "VERSION" in names):
        for row in lines[1:]:
            _node_row(_cells(row, columns), findings)
    elif {"MAXPODS", "REPLICAS"} <= set(names):
        for row in lines[1:]:
            _hpa_row(_cells(row, columns), findings)
    elif "POD-SELECTOR" in names:
        found = (policies.from_table_row(_cells(row, columns), namespace, origin) for row in lines[1:])
        findings.policies.extend(p for p in found if p is not None)
    elif {"SCHEDULE", "ACTIVE"} <= set(names):  # kubectl get cronjob
        for row in lines[1:]:
            cells = _cells(row, columns)
            name, active = _untyped(cells.get("NAME", ""), ("cronjob", "cronjobs")), cells.get("ACTIVE", "")
            piled = pile_up_event(ObjectRef("CronJob", name, cells.get("NAMESPACE", namespace)),
                                  int(active) if active.isdigit() else 0, origin=origin) if name else None
            if piled is not None:
                findings.events.append(piled)
    elif {"DESIRED", "CURRENT", "UP-TO-DATE", "NODE SELECTOR"} <= set(names):  # kubectl get daemonset
        listed = (_untyped(_cells(row, columns).get("NAME", ""), ("daemonset", "daemonsets", "ds")) for row in lines[1:])
        findings.workloads.update(name for name in listed if name)
    elif {"DESIRED", "CURRENT", "AGE"} <= set(names) and "UP-TO-DATE" not in names:
        findings.rollouts.extend(_replicaset_rollouts([_cells(row, columns) for row in lines[1:]]))
    return findings


def _replicaset_rollouts(rows: list[dict[str, str]]) -> list[Rollout]:
    """``kubectl get rs``: a Deployment with two ReplicaSets or more was rolled out when its newest one was made."""
    by_workload: dict[str, list[tuple[timedelta, dict[str, str]]]] = {}
    for cells in rows:
        age = parse_age(cells.get("AGE", ""))
        if cells.get("NAME") and age is not None:
            by_workload.setdefault(workload_of_replicaset(cells["NAME"]), []).append((age, cells))
    out = []
    for workload, sets in by_workload.items():
        if len(sets) < 2:
            continue
        sets.sort(key=lambda item: item[0])
        (age, newest), (_, previous) = sets[0], sets[1]
        detail = f"new ReplicaSet {newest['NAME']} replaces {previous['NAME']}"
        if newest.get("IMAGES") and previous.get("IMAGES") and newest["IMAGES"] != previous["IMAGES"]:
            detail += f" (image {previous['IMAGES']} -> {newest['IMAGES']})"
        out.append(Rollout(workload=workload, age=age, detail=detail))
    return out


def _cells(line: str, columns: list[tuple[str, int]]) -> dict[str, str]:
    exact = all(start == 0 or (start < len(line) and line[start - 1] == " " and line[start] != " ")
                for _, start in columns)
    runs = re.split(r"\s{2,}", line.strip())
    if not exact and len(runs) == len(columns):  # cells shifted off their header (a name edited or renamed in a
        return {name: cell for (name, _), cell in zip(columns, runs, strict=True)}  # paste): the gaps still part them
    aligned = all(start <= len(line) and (start == 0 or line[start - 1] == " ") for _, start in columns)
    if len(line.split()) >= len(columns) and aligned:
        cells = {}
        for i, (name, start) in enumerate(columns):
            end = columns[i + 1][1] if i + 1 < len(columns) else len(line)
            cells[name] = line[start:end].strip()
        if all(" " not in cells.get(k, "") for k in ("NAME", "STATUS")):
            return cells
    words = line.split()  # a misaligned paste: one word a column when the counts agree, else the leading ones
    keep = columns if len(words) == len(columns) else columns[:4]
    return {name: words[i] for i, (name, _) in enumerate(keep) if i < len(words)}


def _pod_row(cells: dict[str, str], findings: Findings, namespace: str) -> None:
    name, status = _untyped(cells.get("NAME", ""), ("pod", "pods")), cells.get("STATUS", "")
    if not name or not status:
        return
    reason = status.split(":", 1)[-1]  # Init:CrashLoopBackOff
    restarts = _RESTARTS.match(cells.get("RESTARTS", ""))
    node = cells.get("NODE", "")
    pod = PodInfo(name=name, namespace=cells.get("NAMESPACE", namespace), node="" if node.startswith("<") else node)
    container = ContainerStatus(pod=name, container="", restart_count=int(restarts.group("n")) if restarts else 0)
    ready = _READY.match(cells.get("READY", ""))
    if ready and status == "Running":  # READY 2/2 of a Running pod: every container ready
        container.ready = ready.group("up") == ready.group("of") and ready.group("of") != "0"
    if reason in WAITING_REASONS:
        container.current = ContainerState(state="waiting", reason=reason)
    elif reason in TERMINATED_REASONS:
        container.last = ContainerState(state="terminated", reason=reason)
    elif reason in POD_REASONS:
        findings.events.append(KubeEvent(reason=reason, message=f"pod status {status}",
                                         obj=ObjectRef("Pod", name, pod.namespace), type="Warning"))
    pod.containers.append(container)
    findings.pods.append(pod)


_READY = re.compile(r"^(?P<up>\d+)/(?P<of>\d+)$")
_TARGET = re.compile(r"(?P<now>\d+)%?/(?P<goal>\d+)%?")


def _hpa_row(cells: dict[str, str], findings: Findings) -> None:
    """``kubectl get hpa``: at MAXPODS with a metric above its target, the autoscaler can add no more pods."""
    replicas, most = cells.get("REPLICAS", ""), cells.get("MAXPODS", "")
    over = [m for m in _TARGET.finditer(cells.get("TARGETS", "")) if int(m["now"]) > int(m["goal"])]
    if not (replicas.isdigit() and most.isdigit() and int(replicas) >= int(most) and over):
        return
    target = cells.get("REFERENCE", "").split("/", 1)[-1] or cells.get("NAME", "")
    findings.events.append(KubeEvent(
        reason="ScalingLimited", obj=ObjectRef("HorizontalPodAutoscaler", target), type="Warning",
        message=f"the desired replica count is more than the maximum replica count ({replicas}/{most} replicas, "
                f"targets {cells.get('TARGETS', '')})",
    ))


def _node_row(cells: dict[str, str], findings: Findings) -> None:
    name, status = _untyped(cells.get("NAME", ""), ("node", "nodes")), cells.get("STATUS", "")
    if not name or not status:
        return
    node = NodeInfo(name=name)
    states = status.split(",")
    if "NotReady" in states or "Unknown" in states:
        node.conditions.append(NodeCondition(node=name, type="Ready", status="False" if "NotReady" in states
                                             else "Unknown", reason="NotReady", message=f"node status {status}"))
    findings.nodes.append(node)
