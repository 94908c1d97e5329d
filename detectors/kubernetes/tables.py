"""``kubectl get pods`` / ``get nodes`` tables (default and ``-o wide``): a pod's STATUS column is its
container's waiting or terminated reason (``CrashLoopBackOff``, ``OOMKilled``) or the pod's own (``Evicted``);
a node's is its readiness. Other ``kubectl get`` tables are recognised so that they are not read as logs."""

from __future__ import annotations

import re

from detectors.kubernetes.model import (
    ContainerState,
    ContainerStatus,
    Findings,
    KubeEvent,
    NodeCondition,
    NodeInfo,
    ObjectRef,
    PodInfo,
)

_HEADER = re.compile(r"^(?:NAMESPACE\s{2,})?NAME\s{2,}[A-Z][A-Za-z0-9()/%._ -]*$")
_CELL = re.compile(r"\S+(?: \S+)*")
_RESTARTS = re.compile(r"^(?P<n>\d+)")
WAITING_REASONS = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                   "CreateContainerError", "InvalidImageName", "RunContainerError", "ErrImageNeverPull"}
TERMINATED_REASONS = {"OOMKilled", "Error", "ContainerCannotRun", "StartError", "DeadlineExceeded"}
POD_REASONS = {"Evicted", "OutOfcpu", "OutOfmemory", "OutOfpods", "NodeAffinity", "NodeLost", "UnexpectedAdmissionError"}


def is_table(text: str) -> bool:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return bool(_HEADER.match(first.rstrip()))


def parse_table(text: str) -> Findings:
    lines = [line for line in text.split("\n") if line.strip()]
    columns = [(m.group(0), m.start()) for m in _CELL.finditer(lines[0])] if lines else []
    names = [name for name, _ in columns]
    findings = Findings()
    if "READY" in names and "STATUS" in names and "RESTARTS" in names:
        for row in lines[1:]:
            _pod_row(_cells(row, columns), findings)
    elif "STATUS" in names and ("ROLES" in names or "VERSION" in names):
        for row in lines[1:]:
            _node_row(_cells(row, columns), findings)
    return findings


def _cells(line: str, columns: list[tuple[str, int]]) -> dict[str, str]:
    aligned = all(start <= len(line) and (start == 0 or line[start - 1] == " ") for _, start in columns)
    if len(line.split()) >= len(columns) and aligned:
        cells = {}
        for i, (name, start) in enumerate(columns):
            end = columns[i + 1][1] if i + 1 < len(columns) else len(line)
            cells[name] = line[start:end].strip()
        if all(" " not in cells.get(k, "") for k in ("NAME", "STATUS")):
            return cells
    words = line.split()  # misaligned paste: the leading columns are single words
    return {name: words[i] for i, (name, _) in enumerate(columns[:4]) if i < len(words)}


def _pod_row(cells: dict[str, str], findings: Findings) -> None:
    name, status = cells.get("NAME", ""), cells.get("STATUS", "")
    if not name or not status:
        return
    reason = status.split(":", 1)[-1]  # Init:CrashLoopBackOff
    restarts = _RESTARTS.match(cells.get("RESTARTS", ""))
    node = cells.get("NODE", "")
    pod = PodInfo(name=name, namespace=cells.get("NAMESPACE", ""), node="" if node.startswith("<") else node)
    container = ContainerStatus(pod=name, container="", restart_count=int(restarts.group("n")) if restarts else 0)
    if reason in WAITING_REASONS:
        container.current = ContainerState(state="waiting", reason=reason)
    elif reason in TERMINATED_REASONS:
        container.last = ContainerState(state="terminated", reason=reason)
    elif reason in POD_REASONS:
        findings.events.append(KubeEvent(reason=reason, message=f"pod status {status}",
                                         obj=ObjectRef("Pod", name, pod.namespace), type="Warning"))
    pod.containers.append(container)
    findings.pods.append(pod)


def _node_row(cells: dict[str, str], findings: Findings) -> None:
    name, status = cells.get("NAME", ""), cells.get("STATUS", "")
    if not name or not status:
        return
    node = NodeInfo(name=name)
    states = status.split(",")
    if "NotReady" in states or "Unknown" in states:
        node.conditions.append(NodeCondition(node=name, type="Ready", status="False" if "NotReady" in states
                                             else "Unknown", reason="NotReady", message=f"node status {status}"))
    findings.nodes.append(node)
