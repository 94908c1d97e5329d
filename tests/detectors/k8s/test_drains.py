"""A drain that evicts every replica of a workload with no PodDisruptionBudget (docs/causes.md)."""

from __future__ import annotations

from bot.domain import KubeText
from detectors.kubernetes.drains import budgets_listed, unbounded_drain_signals

DRAIN = """$ kubectl drain gke-pool-a-9wqk --ignore-daemonsets --delete-emptydir-data
node/gke-pool-a-9wqk cordoned
evicting pod identity/auth-gateway-7f9c6d8b5-9bqlm
evicting pod identity/auth-gateway-7f9c6d8b5-2xk8p
evicting pod profile/profile-api-5d4c3b2a1-zz8kq
pod/auth-gateway-7f9c6d8b5-9bqlm evicted
node/gke-pool-a-9wqk drained
"""

NO_PDB = """$ kubectl -n identity get pdb
No resources found in identity namespace.
"""

OTHER_PDB = """$ kubectl -n identity get pdb
NAME           MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE
keycloak       1               N/A               1                     402d
"""

OWN_PDB = """$ kubectl -n identity get pdb
NAME               MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE
auth-gateway-pdb   1               N/A               1                     402d
"""

KURED = """$ kubectl -n kube-system logs ds/kured
time="2027-01-26T03:05:01Z" level=info msg="evicting pod saas/tenant-api-64f8b9c7d5-4hzlq" cmd=/usr/bin/kubectl
time="2027-01-26T03:05:01Z" level=info msg="evicting pod saas/tenant-api-64f8b9c7d5-8pnc2" cmd=/usr/bin/kubectl
"""


def _texts(*texts: str) -> list[KubeText]:
    return [KubeText(name=f"t{i}.txt", text=t) for i, t in enumerate(texts)]


def test_the_budget_listing_reads_none_found_and_a_table() -> None:
    assert budgets_listed(_texts(NO_PDB)) == {"identity": set()}
    assert budgets_listed(_texts(OTHER_PDB)) == {"identity": {"keycloak"}}


def test_every_replica_evicted_with_no_budget_is_the_workloads_setting() -> None:
    for listing in (NO_PDB, OTHER_PDB):
        signals = unbounded_drain_signals(_texts(DRAIN, listing))
        assert [(s.service, s.kind) for s in signals] == [("auth-gateway", "config_change")]


def test_a_drain_tools_log_is_read_like_kubectl_drain() -> None:
    signals = unbounded_drain_signals(_texts(KURED, NO_PDB.replace("identity", "saas")))
    assert [(s.service, s.kind) for s in signals] == [("tenant-api", "config_change")]


def test_nothing_is_said_with_a_budget_of_its_own_one_pod_or_no_listing() -> None:
    assert unbounded_drain_signals(_texts(DRAIN, OWN_PDB)) == []
    assert unbounded_drain_signals(_texts(DRAIN)) == []  # no one looked at the budgets
    one = DRAIN.replace("evicting pod identity/auth-gateway-7f9c6d8b5-2xk8p\n", "")
    assert unbounded_drain_signals(_texts(one, NO_PDB)) == []
