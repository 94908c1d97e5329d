"""kubectl renderers: the text has the fields, tables and ages kubectl prints, and reads back by its layout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bot.simulation.kubectl import (
    ContainerView,
    KubeEvent,
    NodeView,
    PodView,
    describe_node,
    describe_pod,
    get_events,
    get_pods,
    human_age,
    logs_previous,
    pod_yaml,
)

NOW = datetime(2026, 3, 3, 9, 45, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "age"), [
    (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (303, "5m3s"), (600, "10m"), (3 * 3600 - 1, "179m"),
    (3 * 3600, "3h"), (7 * 3600 + 600, "7h10m"), (30 * 3600, "30h"), (3 * 86400 + 7200, "3d2h"), (20 * 86400, "20d"),
])
def test_ages_are_kubectl_human_durations(seconds: int, age: str) -> None:
    assert human_age(timedelta(seconds=seconds)) == age


def _pod(**container: object) -> PodView:
    events = [KubeEvent("Normal", "Pulled", "pod/api-5d8f7c9b6-x2k4p", 'Container image "r/api:1.2" already present',
                        NOW - timedelta(minutes=20), NOW - timedelta(seconds=40), 7),
              KubeEvent("Warning", "BackOff", "pod/api-5d8f7c9b6-x2k4p", "Back-off restarting failed container api",
                        NOW - timedelta(minutes=18), NOW - timedelta(seconds=12), 60)]
    c = ContainerView(name="api", image="r/api:1.2", limits={"cpu": "1", "memory": "512Mi"},
                      requests={"cpu": "250m", "memory": "256Mi"}, container_id="containerd://abc",
                      image_id="r/api@sha256:00", **container)  # type: ignore[arg-type]
    return PodView(name="api-5d8f7c9b6-x2k4p", namespace="shop", node="node-2", node_ip="10.0.2.15", ip="10.244.2.7",
                   owner="ReplicaSet/api-5d8f7c9b6", labels={"app": "api", "pod-template-hash": "5d8f7c9b6"},
                   start=NOW - timedelta(hours=3), phase="Running", container=c,
                   conditions={"Initialized": "True", "Ready": "False", "ContainersReady": "False",
                               "PodScheduled": "True"}, events=events, now=NOW)


def _fields(text: str) -> dict[str, str]:
    """``Key:  value`` lines of a describe, last one wins (kubectl's layout: key, colon, padding, value)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Z][\w -]*?):\s+(\S.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def test_describe_pod_has_the_container_state_kubectl_prints() -> None:
    text = describe_pod(_pod(state="Waiting", state_reason="CrashLoopBackOff", last_reason="OOMKilled", last_exit=137,
                             last_started=NOW - timedelta(minutes=2), last_finished=NOW - timedelta(minutes=1),
                             ready=False, restarts=7))
    lines = text.splitlines()
    assert lines[0].startswith("Name:") and lines[0].split()[1] == "api-5d8f7c9b6-x2k4p"
    state = lines.index("    State:          Waiting")
    assert lines[state + 1].split() == ["Reason:", "CrashLoopBackOff"]
    assert lines[state + 2].split() == ["Last", "State:", "Terminated"]
    assert lines[state + 3].split() == ["Reason:", "OOMKilled"]
    assert lines[state + 4].split() == ["Exit", "Code:", "137"]
    fields = _fields(text)
    assert fields["Restart Count"] == "7" and fields["Node"] == "node-2/10.0.2.15"
    assert fields["Controlled By"] == "ReplicaSet/api-5d8f7c9b6" and fields["Finished"].endswith("+0000")
    cond = lines.index("Conditions:")
    assert lines[cond + 1].split() == ["Type", "Status"]
    assert {tuple(x.split()) for x in lines[cond + 2: cond + 6]} >= {("Ready", "False"), ("PodScheduled", "True")}


def test_describe_events_table_reads_back_by_its_header() -> None:
    text = describe_pod(_pod(state="Running"))
    lines = text.splitlines()
    head = lines[lines.index("Events:") + 1]
    assert head.split() == ["Type", "Reason", "Age", "From", "Message"]
    starts = [head.index(col) for col in ("Type", "Reason", "Age", "From", "Message")]
    row = lines[lines.index("Events:") + 4]
    cells = [row[a:b].strip() for a, b in zip(starts, starts[1:] + [len(row)], strict=True)]
    assert cells[:2] == ["Warning", "BackOff"] and cells[3] == "kubelet"
    assert re.fullmatch(r"12s \(x60 over 18m\)", cells[2])
    assert cells[4] == "Back-off restarting failed container api"


@pytest.mark.parametrize("all_namespaces", [False, True])
def test_get_events_columns_line_up_under_the_header(all_namespaces: bool) -> None:
    events = [KubeEvent("Warning", "FailedScheduling", "pod/x-1", "0/4 nodes are available: 4 Insufficient cpu.",
                        NOW - timedelta(minutes=9), NOW - timedelta(minutes=1), 9, namespace="batch"),
              KubeEvent("Normal", "ScalingReplicaSet", "deployment/web", "Scaled up replica set web-7f to 3",
                        NOW - timedelta(minutes=14), NOW - timedelta(minutes=14), namespace="web")]
    text = get_events(events, NOW, all_namespaces=all_namespaces)
    lines = text.splitlines()
    cols = (["NAMESPACE"] if all_namespaces else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert re.match(r"\s+".join(c.replace(" ", r"\s") for c in cols), lines[0])
    starts = [lines[0].index(c) for c in cols]
    rows = [[ln[a:b].strip() for a, b in zip(starts, starts[1:] + [len(ln)], strict=True)] for ln in lines[1:]]
    assert [r[-3] for r in rows] == ["ScalingReplicaSet", "FailedScheduling"]  # oldest first
    assert rows[1][-4:] == ["Warning", "FailedScheduling", "pod/x-1", "0/4 nodes are available: 4 Insufficient cpu."]
    assert rows[0][-5] == "14m" and (rows[0][0] == "web") == all_namespaces


def test_pod_yaml_is_a_pod_with_its_last_termination() -> None:
    doc = yaml.safe_load(pod_yaml(_pod(state="Waiting", state_reason="CrashLoopBackOff", last_reason="Error",
                                       last_exit=1, restarts=3, ready=False)))
    assert doc["kind"] == "Pod" and doc["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    status = doc["status"]["containerStatuses"][0]
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["lastState"]["terminated"]["exitCode"] == 1 and status["restartCount"] == 3


def test_describe_node_conditions_and_taints() -> None:
    node = NodeView(name="node-7", ip="10.0.7.3", created=NOW - timedelta(days=40), now=NOW,
                    conditions=[("MemoryPressure", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
                                ("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")],
                    heartbeat=NOW - timedelta(minutes=6), transition=NOW - timedelta(minutes=5),
                    taints=["node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"],
                    pods=[("shop", "cart-5c-abcde")], events=[KubeEvent(
                        "Normal", "NodeNotReady", "node/node-7", "Node node-7 status is now: NodeNotReady",
                        NOW - timedelta(minutes=5), NOW - timedelta(minutes=5), source="node-controller")])
    text = describe_node(node)
    lines = text.splitlines()
    assert _fields(text)["Taints"] == "node.kubernetes.io/unreachable:NoExecute"
    assert "                    node.kubernetes.io/unreachable:NoSchedule" in lines
    head = lines[lines.index("Conditions:") + 1]
    assert head.split() == ["Type", "Status", "LastHeartbeatTime", "LastTransitionTime", "Reason", "Message"]
    ready = next(ln for ln in lines if ln.strip().startswith("Ready "))
    assert ready[head.index("Status"):].split()[0] == "Unknown"
    assert ready.endswith("Kubelet stopped posting node status.")
    assert "(1 in total)" in text and lines[-1].split()[:2] == ["Normal", "NodeNotReady"]


def test_get_pods_and_logs_previous() -> None:
    table = get_pods([("cart-5c-abcde", "0/1", "Terminating", "2", "12d", "10.244.1.4", "node-7")])
    head, row = table.splitlines()
    assert head.split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row[head.index("STATUS"):].split()[0] == "Terminating" and row[head.index("NODE"):].split()[0] == "node-7"
    text = logs_previous(["panic: boom", "exit status 2"], pod="cart-5c-abcde", container="cart", header=True)
    assert text.splitlines() == ["$ kubectl logs cart-5c-abcde -c cart --previous", "panic: boom", "exit status 2"]
    assert logs_previous(["x"], pod="p", container="c", header=False) == "x\n"
