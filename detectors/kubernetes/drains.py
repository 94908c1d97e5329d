"""A drain that takes every replica of a workload at once because nothing bounds it (docs/causes.md).

A voluntary disruption (``kubectl drain`` for a node upgrade, kured's reboot drain, a consolidation) goes through
the eviction API, which a PodDisruptionBudget can slow down; a workload with no budget loses every pod the drained
node held in one go. When the drain's own log evicts two or more pods of one workload and the responder's listing of
the namespace's budgets shows none for it (``No resources found in x namespace.``, or only budgets of others), the
workload's missing budget is what to fix: the maintenance is the trigger, the node is healthy.
"""

from __future__ import annotations

import re

from bot.domain import Evidence, EvidenceType, KubeText, Signal, SignalSource, stable_hash
from bot.domain.workloads import workload_of_pod
from detectors.kubernetes.parse import all_namespaces, command_namespace, split_commands
from detectors.kubernetes.text import clean

SCORE = 0.7
# kubectl drain's (and the tools that run it: kured, node upgrades) line per pod it evicts: ``evicting pod ns/name``
_EVICTING = re.compile(r"\bevicting pod (?P<ns>[a-z0-9][\w.-]*)/(?P<pod>[a-z0-9][\w.-]*)")
_PDB_COMMAND = re.compile(r"\bget\s+(?:pdb|poddisruptionbudgets?(?:\.policy)?)\b(?:.*?\s-n\s+(?P<ns>[\w.-]+))?")
_NONE_FOUND = re.compile(r"No resources found in (?P<ns>[\w.-]+) namespace")
_PDB_HEADER = re.compile(r"^(?P<ns>NAMESPACE\s+)?NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\b")
# a listing of every namespace's budgets: a namespace it does not show has none
EVERY_NAMESPACE = "*"


def budgets_listed(kube_texts: list[KubeText]) -> dict[str, set[str]]:
    """Namespace -> the PodDisruptionBudgets a ``get pdb`` listing shows there (empty: it found none); a listing of
    every namespace (``-A``, its NAMESPACE column) also records ``EVERY_NAMESPACE``."""
    out: dict[str, set[str]] = {}
    for item in kube_texts:
        for command, segment in split_commands(clean(item.text)):
            if not _PDB_COMMAND.search(command or ""):
                continue
            if all_namespaces(command or ""):
                out.setdefault(EVERY_NAMESPACE, set())
                for line in segment.split("\n")[1:] if _PDB_HEADER.match(segment.lstrip("\n")) else []:
                    cells = line.split()
                    if len(cells) >= 2:
                        out.setdefault(cells[0], set()).add(cells[1])
                continue
            none = _NONE_FOUND.search(segment)
            namespace = command_namespace(command or "") or (none.group("ns") if none else "")
            if not namespace:
                continue
            names = out.setdefault(namespace, set())
            in_table = False
            for line in segment.split("\n"):
                if _PDB_HEADER.match(line):
                    in_table = True
                elif in_table and line.strip():
                    names.add(line.split()[0])
    return out


def _protects(budget: str, workload: str) -> bool:
    return budget.startswith(workload) or workload.startswith(budget)


# the cluster autoscaler's scale-down names the pods it evicts from the node it removes in one list
_RESCHEDULE = re.compile(r"Scale-down: removing node \S+.*?pods to reschedule: (?P<pods>[\w./,-]+)")
_POD_REF = re.compile(r"^(?P<ns>[a-z0-9][\w.-]*)/(?P<pod>[a-z0-9][\w.-]*)$")


def _evicted_on(line: str) -> list[tuple[str, str]]:
    """The (namespace, pod) pairs a drain's line evicts: kubectl drain's and kured's ``evicting pod ns/x``, the
    cluster autoscaler's ``Scale-down: removing node n, ..., pods to reschedule: ns/a,ns/b``."""
    found = [(m.group("ns"), m.group("pod")) for m in _EVICTING.finditer(line)]
    scale_down = _RESCHEDULE.search(line)
    if scale_down:
        refs = [_POD_REF.match(ref.strip()) for ref in scale_down.group("pods").split(",")]
        found.extend((m.group("ns"), m.group("pod")) for m in refs if m)
    return found


def unbounded_drain_signals(kube_texts: list[KubeText]) -> list[Signal]:
    """One ``config_change`` per workload a drain evicted two or more pods of with no budget listed for it."""
    evicted: dict[tuple[str, str], list[str]] = {}
    for item in kube_texts:
        for line in clean(item.text).split("\n"):
            for namespace, pod in _evicted_on(line):
                key = (namespace, workload_of_pod(pod))
                if pod not in evicted.setdefault(key, []):
                    evicted[key].append(pod)
    budgets = budgets_listed(kube_texts)
    signals = []
    for (namespace, workload), pods in sorted(evicted.items()):
        listed = budgets.get(namespace, set() if EVERY_NAMESPACE in budgets else None)
        if len(pods) < 2 or listed is None or any(_protects(b, workload) for b in listed):
            continue
        quote = f"drain evicted {len(pods)} pods of {workload} at once ({', '.join(pods[:3])}); no PodDisruptionBudget"
        signals.append(Signal(
            source=SignalSource.KUBERNETES, detector="k8s.drains", service=workload, kind="config_change",
            title=quote[:200], score=SCORE,
            evidence=[Evidence(id=f"k8s:{stable_hash('unbounded_drain', workload, p)}", type=EvidenceType.KUBERNETES,
                               summary=f"{workload}: evicting pod {namespace}/{p}"[:300], service=workload,
                               detail="rule drain.unbounded; every replica evicted at once, no budget")
                      for p in pods[:3]],
            attributes={"decisive": True, "rule": "drain.unbounded", "object": workload, "count": len(pods),
                        "message": quote[:500], "blame": "workload"}))
    return signals
