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


ALL_PDB = """$ kubectl get pdb -A
NAMESPACE   NAME       MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE
identity    keycloak   1               N/A               1                     402d
{more}"""

SCALE_DOWN = ("I0126 03:05:01.118204 1 scale_down.go:1102] Scale-down: removing node ip-10-4-7-21.ec2.internal, "
              "utilization: {0.31 0.22 0 cpu 0.31}, pods to reschedule: identity/auth-gateway-7f9c6d8b5-9bqlm,"
              "identity/auth-gateway-7f9c6d8b5-2xk8p,kube-system/coredns-5d78c9869d-x7k2p\n")


def test_a_listing_of_every_namespaces_budgets_is_read_by_its_namespace_column() -> None:
    assert budgets_listed(_texts(ALL_PDB.format(more=""))) == {"*": set(), "identity": {"keycloak"}}
    signals = unbounded_drain_signals(_texts(DRAIN, ALL_PDB.format(more="")))
    assert [(s.service, s.kind) for s in signals] == [("auth-gateway", "config_change")]
    own = ALL_PDB.format(more="identity    auth-gateway   1   N/A   1   402d\n")
    assert unbounded_drain_signals(_texts(DRAIN, own)) == []
    # a namespace the listing of every namespace does not show has no budget
    signals = unbounded_drain_signals(_texts(KURED, ALL_PDB.format(more="")))
    assert [s.service for s in signals] == ["tenant-api"]


def test_the_cluster_autoscalers_scale_down_is_read_like_a_drain() -> None:
    signals = unbounded_drain_signals(_texts(SCALE_DOWN, NO_PDB))
    assert [(s.service, s.kind) for s in signals] == [("auth-gateway", "config_change")]
