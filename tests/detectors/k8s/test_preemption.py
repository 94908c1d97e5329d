"""Pods preempted for a pod of higher priority: the preemptor's workload, named by name or by UID."""

from __future__ import annotations

from bot.domain import KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.preemption import preempting_workload, preemptor_pod

from .factories import context

UID = "3e9a5b72-c1d4-4f86-b2a0-9d7f6e3c5b18"


def test_the_preemptor_is_read_by_name_or_by_a_uid_a_listing_showed() -> None:
    assert preemptor_pod("Preempted by batch/etl-29421840-7xk2p on node n-1", {}) == "etl-29421840-7xk2p"
    assert preemptor_pod(f"Preempted by pod {UID} on node n-1", {UID: "render-6f8b9c7d5-r4t2w"}) == (
        "render-6f8b9c7d5-r4t2w")
    assert preemptor_pod(f"Preempted by pod {UID} on node n-1", {}) == ""
    assert preemptor_pod("Stopping container api", {}) == ""


def test_one_workload_is_named_only_when_the_events_agree() -> None:
    def workload(pod: str) -> str:
        return pod.rsplit("-", 2)[0]

    one = ["Preempted by batch/etl-5d8f7c9b6-7xk2p on node n-1", "Preempted by batch/etl-5d8f7c9b6-b4m9t on node n-2"]
    assert preempting_workload(one, {}, workload, "api") == "etl"
    two = [*one, "Preempted by ml/trainer-6c7d8e9f0-q8d2c on node n-3"]
    assert preempting_workload(two, {}, workload, "api") == ""


EVENTS = f"""$ kubectl get events -n shop
LAST SEEN   TYPE      REASON             OBJECT                     MESSAGE
19m         Normal    Preempted          pod/api-5c8d9f7b6-hz4lp    Preempted by pod {UID} on node n-1
4m          Warning   FailedScheduling   pod/api-5c8d9f7b6-t6v8b    0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.
"""
UIDS = f"""$ kubectl get pods -A -o custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,UID:.metadata.uid
NAMESPACE   NAME                         UID
media       render-6f8b9c7d5-r4t2w       {UID}
"""


def test_a_preempted_workload_names_its_preemptor_and_its_insufficient_cpu_follows_from_it() -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="e.txt", text=EVENTS), KubeText(name="u.txt", text=UIDS)))
    [preempted] = [s for s in signals if s.attributes["rule"] == "schedule.preempted_by"]
    assert (preempted.kind, preempted.attributes["culprit"], preempted.attributes["decisive"]) == (
        "config_change", "render", True)
    [short] = [s for s in signals if s.kind == "resource_quota"]
    assert short.attributes["decisive"] is False and short.score < preempted.score
    # without the listing the UID stays unknown: the victim's own findings are all there is
    alone = detect_kubernetes_signals(context(KubeText(name="e.txt", text=EVENTS)))
    assert not any(s.attributes["rule"] == "schedule.preempted_by" for s in alone)
    assert any(s.kind == "resource_quota" and s.attributes["decisive"] for s in alone)
