"""kubectl output recognised by content and parsed: describe, events tables, API objects, rollout history, logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import KubeText
from detectors.kubernetes import parse_kube_text
from detectors.kubernetes.text import parse_age, parse_age_column, parse_time

from .factories import kube


def test_describe_pod_reads_states_owner_node_and_events() -> None:
    found = parse_kube_text(kube("describe_pod_oom.txt", as_name="notes.txt"))
    [pod] = found.pods
    assert pod.node == "ip-10-0-3-17.eu-west-1.compute.internal"
    assert (pod.owner.kind, pod.owner.name) == ("ReplicaSet", "checkout-7c9d8f6b5")  # type: ignore[union-attr]
    [status] = pod.containers
    assert status.current is not None and (status.current.state, status.current.reason) == ("waiting",
                                                                                            "CrashLoopBackOff")
    assert status.last is not None and (status.last.reason, status.last.exit_code) == ("OOMKilled", 137)
    assert status.last.finished == datetime(2024, 3, 4, 11, 52, 41, tzinfo=UTC)
    assert (status.restart_count, status.ready) == (6, False)
    backoff = next(e for e in found.events if e.reason == "BackOff")
    assert (backoff.count, backoff.first_age, backoff.last_age) == (24, timedelta(minutes=27), timedelta(seconds=125))
    assert backoff.obj.label == "pod/checkout-7c9d8f6b5-x2kbc" and backoff.type == "Warning"
    assert not found.logs  # a describe is not log text


def test_describe_node_reads_conditions_and_taints() -> None:
    found = parse_kube_text(kube("describe_node_notready.txt"))
    [node] = found.nodes
    ready = next(c for c in node.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == ("Unknown", "NodeStatusUnknown",
                                                           "Kubelet stopped posting node status.")
    assert ready.since == datetime(2024, 3, 4, 11, 39, 1, tzinfo=UTC)
    assert node.taints == ["node.kubernetes.io/unreachable"]
    assert node.allocated == {"cpu": (91, 150), "memory": (76, 89)}
    assert [e.reason for e in found.events] == ["NodeNotReady"]


def test_get_events_default_layout() -> None:
    found = parse_kube_text(kube("get_events.txt"))
    assert [e.reason for e in found.events] == ["ScalingReplicaSet", "ScalingReplicaSet", "Scheduled", "Pulled",
                                                "BackOff", "Unhealthy"]
    probe = found.events[-1]
    assert probe.obj.label == "pod/cart-6d9f7b8c5-p4k2m" and probe.last_age == timedelta(minutes=14)
    assert probe.message.startswith("Readiness probe failed: Get \"http://10.244.1.12:8080/ready\"")


def test_get_events_rows_not_aligned_with_the_header_are_read_word_by_word() -> None:
    # a paste whose names were shortened by hand (redacted): the columns after the name moved left
    text = ("LAST SEEN   TYPE      REASON      OBJECT                             MESSAGE\n"
            "2m10s       Warning   BackOff     pod/db-0                    Back-off restarting failed container pg\n"
            "24m         Warning   Unhealthy   pod/db-0                    Liveness probe failed: 127.0.0.1:5432\n"
            "27m         Normal    Scheduled   pod/api-7c9d8f6b5-x2kbc             Successfully assigned shop/api\n")
    found = parse_kube_text(KubeText(name="events.txt", text=text))
    assert [(e.reason, e.obj.label, e.type) for e in found.events] == [
        ("BackOff", "pod/db-0", "Warning"), ("Unhealthy", "pod/db-0", "Warning"),
        ("Scheduled", "pod/api-7c9d8f6b5-x2kbc", "Normal")]
    assert found.events[0].message == "Back-off restarting failed container pg"
    assert found.events[0].last_age == timedelta(minutes=2, seconds=10)


def test_get_events_wide_layout_keeps_count_source_and_first_seen() -> None:
    found = parse_kube_text(kube("get_events_wide.txt"))
    failed = found.events[0]
    assert (failed.reason, failed.count, failed.source_host) == ("Failed", 7, "worker-2")
    assert failed.first_age == timedelta(minutes=12) and failed.last_age == timedelta(minutes=4)
    assert failed.message.endswith("ghcr.io/acme/web:2.3.1: not found")


def test_get_events_old_layout_with_name_and_kind_columns() -> None:
    found = parse_kube_text(kube("get_events_old.txt"))
    node, pod = found.events
    assert (node.obj.label, node.count, node.first_age) == ("node/node-3", 57, timedelta(minutes=14))
    assert (pod.obj.label, pod.message) == ("pod/api-6c8d7f9b4-lm2xs", "Node is not ready")


def test_events_table_with_namespace_column_and_kubectl_events_ages() -> None:
    text = ("NAMESPACE   LAST SEEN           TYPE      REASON    OBJECT          MESSAGE\n"
            "shop        2m (x5 over 10m)    Warning   BackOff   pod/api-0       Back-off restarting failed container\n")
    [event] = parse_kube_text(KubeText(name="x", text=text)).events
    assert (event.obj.namespace, event.count, event.first_age) == ("shop", 5, timedelta(minutes=10))


def test_yaml_pod_with_last_state_terminated() -> None:
    found = parse_kube_text(kube("pod_ledger.yaml"))
    [pod] = found.pods
    assert (pod.node, pod.owner.kind, pod.owner.name) == ("ip-10-0-5-21", "StatefulSet", "ledger")  # type: ignore[union-attr]
    [status] = pod.containers
    assert status.last is not None and (status.last.reason, status.last.exit_code) == ("Error", 139)
    assert status.current is not None and status.current.reason == "CrashLoopBackOff"
    assert status.restart_count == 4


def test_json_pod_with_a_waiting_message() -> None:
    [pod] = parse_kube_text(kube("pod_api.json")).pods
    [status] = pod.containers
    assert status.current is not None and status.current.reason == "ErrImagePull"
    assert "i/o timeout" in status.current.message and status.image == "registry.example.com/shop/api:2.0"


def test_event_list_and_events_k8s_io_v1() -> None:
    listed = parse_kube_text(kube("eventlist.json")).events
    assert [(e.reason, e.count, e.source_host) for e in listed] == [("FailedMount", 9, "worker-1"),
                                                                   ("DeadlineExceeded", 1, "")]
    assert listed[0].first_seen == datetime(2024, 3, 4, 11, 31, 2, tzinfo=UTC)
    v1 = parse_kube_text(kube("events_v1.yaml")).events
    assert [(e.reason, e.count, e.source_host, e.obj.kind) for e in v1] == [
        ("EvictionThresholdMet", 5, "worker-7", "Node"), ("Evicted", 1, "worker-7", "Pod")]
    assert v1[1].message.startswith("The node was low on resource: ephemeral-storage")


def test_job_conditions_become_events_and_owners_are_kept() -> None:
    found = parse_kube_text(kube("job_backup.yaml"))
    assert {(e.obj.label, e.reason) for e in found.events} == {("job/backup-28475520", "BackoffLimitExceeded")}
    assert found.owners["backup-28475520"].name == "backup"
    [rollout] = found.rollouts
    assert (rollout.workload, rollout.revision, rollout.at) == ("api", "12", datetime(2024, 3, 4, 11, 30, tzinfo=UTC))


def test_rollout_history() -> None:
    [rollout] = parse_kube_text(kube("rollout_history.txt")).rollouts
    assert (rollout.workload, rollout.revision) == ("api", "12") and rollout.detail.endswith("shop/api:2.0")


def test_logs_are_whatever_is_not_recognised_and_a_command_names_the_pod() -> None:
    text = ("$ kubectl logs -n shop checkout-7c9d8f6b5-x2kbc -c checkout --previous\r\n"
            + kube("logs_previous.txt").text.replace("\n", "\r\n"))
    [log] = parse_kube_text(KubeText(name="paste.txt", text=text)).logs
    assert (log.pod, log.container, log.previous) == ("checkout-7c9d8f6b5-x2kbc", "checkout", True)
    assert log.lines[-3] == "java.lang.OutOfMemoryError: Java heap space" and not any("\r" in x for x in log.lines)


def test_prefixed_logs_are_split_per_pod() -> None:
    text = ("[pod/api-6c8d7f9b4-lm2xs/api] panic: runtime error: invalid memory address\n"
            "[pod/worker-0/worker] INFO started\n[pod/api-6c8d7f9b4-lm2xs/api] goroutine 1 [running]:\n")
    logs = parse_kube_text(KubeText(name="prefixed.log", text=text)).logs
    assert {(x.pod, len(x.lines)) for x in logs} == {("api-6c8d7f9b4-lm2xs", 2), ("worker-0", 1)}


@pytest.mark.parametrize("text", [
    # an aggregator's ``pod | line``
    "ledger-api-6c9b8d7f5-2vtwp | OSError: [Errno 11] Resource temporarily unavailable: fork failed\n"
    "link-crawler-0 | fork: retry: Resource temporarily unavailable\n"
    "ledger-api-6c9b8d7f5-2vtwp | Shutting down: Master\n",
    # stern's ``pod container line``
    "ledger-api-6c9b8d7f5-2vtwp api OSError: [Errno 11] Resource temporarily unavailable: fork failed\n"
    "link-crawler-0 fetcher fork: retry: Resource temporarily unavailable\n"
    "ledger-api-6c9b8d7f5-2vtwp api Shutting down: Master\n",
    # ``[pod/name]`` without a container
    "[pod/ledger-api-6c9b8d7f5-2vtwp] OSError: [Errno 11] Resource temporarily unavailable: fork failed\n"
    "[pod/link-crawler-0] fork: retry: Resource temporarily unavailable\n"
    "[pod/ledger-api-6c9b8d7f5-2vtwp] Shutting down: Master\n",
])
def test_other_pod_prefix_forms_split_concatenated_logs_per_pod(text: str) -> None:
    logs = parse_kube_text(KubeText(name="all-pods.txt", text=text)).logs
    assert {(x.pod, len(x.lines)) for x in logs} == {("ledger-api-6c9b8d7f5-2vtwp", 2), ("link-crawler-0", 1)}
    crawler = next(x for x in logs if x.pod == "link-crawler-0")
    assert crawler.lines == ["fork: retry: Resource temporarily unavailable"]


def test_lines_that_merely_start_with_a_word_are_not_read_as_prefixed() -> None:
    # a log whose lines begin with a component and a word is one pod's text, not several pods' (no pod-shaped names)
    text = ("scheduler worker started 4 threads\nscheduler worker picked job 17\n"
            "2026-07-14 03:18:41 fetch url=https://a.example status=200\nweb-1 | a line quoted from elsewhere\n")
    [log] = parse_kube_text(KubeText(name="app.txt", text=text)).logs
    assert log.pod == "" and len(log.lines) == 4


def test_several_outputs_in_one_file_are_split_at_their_commands() -> None:
    text = ("$ kubectl describe node node-3\n" + kube("describe_node_notready.txt").text
            + "\n$ kubectl get events -n shop\n" + kube("get_events.txt").text
            + "\n$ kubectl logs api-0 -p\n" + "Error: connect ECONNREFUSED 10.0.0.5:5432\n")
    found = parse_kube_text(KubeText(name="incident.txt", text=text))
    assert len(found.nodes) == 1 and len(found.events) == 7
    assert [(x.pod, x.previous) for x in found.logs] == [("api-0", True)]


def test_ansi_colours_and_crlf_are_ignored() -> None:
    text = kube("get_events.txt").text.replace("Warning", "\x1b[33mWarning\x1b[0m").replace("\n", "\r\n")
    found = parse_kube_text(KubeText(name="x", text=text))
    assert [e.reason for e in found.events if e.type == "Warning"] == ["BackOff", "Unhealthy"]


@pytest.mark.parametrize("text", [
    "", "\x00\x01\x02\xff garbage", "{not json", "apiVersion: v1\nkind: Pod\nmetadata: [unclosed",
    "Name: x\nNamespace: y\nContainers:\n  c:\n    State: Terminated\n      Exit Code: banana\n",
    "LAST SEEN   TYPE   REASON   OBJECT   MESSAGE\n\n???\n", "kind: Pod\nstatus: 3\n", "[1, 2, 3]",
    '{"kind": "EventList", "items": [{"kind": "Event", "reason": 5, "involvedObject": "x"}, null, 7]}',
])
def test_garbage_never_raises(text: str) -> None:
    found = parse_kube_text(KubeText(name="bad", text=text))
    assert not found.events and not found.nodes and not found.rollouts


def test_truncated_yaml_keeps_what_came_before_the_cut() -> None:
    text = kube("pod_ledger.yaml").text
    cut = text[: text.index("        finishedAt")] + "        finishedAt: \"2024-03-04T11:5"
    [pod] = parse_kube_text(KubeText(name="cut.yaml", text=cut)).pods
    assert pod.containers[0].last is not None and pod.containers[0].last.exit_code == 139


def test_truncated_describe_keeps_its_events() -> None:
    text = kube("describe_pod_oom.txt").text
    cut = text[: text.index("Back-off restarting") + 20]
    found = parse_kube_text(KubeText(name="cut.txt", text=cut))
    assert found.pods and any(e.reason == "BackOff" for e in found.events)


@pytest.mark.parametrize(("value", "seconds"), [("3m12s", 192), ("2d3h", 183600), ("45s", 45), ("<unknown>", None),
                                                ("", None), ("abc", None), ("1y2d", 367 * 86400)])
def test_kubectl_ages(value: str, seconds: int | None) -> None:
    age = parse_age(value)
    assert (age.total_seconds() if age else None) == seconds


def test_age_column_and_times() -> None:
    assert parse_age_column("2m55s (x12 over 14m)") == (timedelta(seconds=175), timedelta(minutes=14), 12)
    assert parse_time("Mon, 04 Mar 2024 11:52:41 +0000") == datetime(2024, 3, 4, 11, 52, 41, tzinfo=UTC)
    assert parse_time("2024-03-04T11:52:41Z") == datetime(2024, 3, 4, 11, 52, 41, tzinfo=UTC)
    assert parse_time("<unknown>") is None and parse_time("yesterday") is None


def test_get_pods_and_get_nodes_tables() -> None:
    pods = ("NAME                        READY   STATUS                       RESTARTS      AGE\n"
            "checkout-7c9d8f6b5-x2kbc    0/1     CrashLoopBackOff             6 (2m5s ago)  33m\n"
            "ledger-0                    0/1     OOMKilled                    3 (40s ago)   2d\n"
            "search-7d9c8b6f5-k2j4h      0/1     Evicted                      0             1h\n"
            "payments-5d8f7c9b6-t7x2q    0/1     Init:CreateContainerConfigError   0        5m\n"
            "web-5b7d9c6f8-qq7zt         1/1     Running                      0             33m\n")
    found = parse_kube_text(KubeText(name="pods", text=pods))
    states = {p.name: (p.containers[0].current or p.containers[0].last) for p in found.pods}
    assert states["checkout-7c9d8f6b5-x2kbc"].reason == "CrashLoopBackOff"  # type: ignore[union-attr]
    assert states["ledger-0"].reason == "OOMKilled" and states["web-5b7d9c6f8-qq7zt"] is None  # type: ignore[union-attr]
    assert states["payments-5d8f7c9b6-t7x2q"].reason == "CreateContainerConfigError"  # type: ignore[union-attr]
    assert next(p for p in found.pods if p.name == "checkout-7c9d8f6b5-x2kbc").containers[0].restart_count == 6
    assert [(e.obj.name, e.reason) for e in found.events] == [("search-7d9c8b6f5-k2j4h", "Evicted")]
    assert not found.logs
    nodes = ("NAME     STATUS                        ROLES    AGE   VERSION\n"
             "node-1   Ready                         <none>   40d   v1.29.2\n"
             "node-3   NotReady,SchedulingDisabled   <none>   40d   v1.29.2\n")
    found = parse_kube_text(KubeText(name="nodes", text=nodes))
    assert [(n.name, [(c.type, c.status) for c in n.conditions]) for n in found.nodes] == [
        ("node-1", []), ("node-3", [("Ready", "False")])]


@pytest.mark.parametrize("text", [
    "NAME       READY   UP-TO-DATE   AVAILABLE   AGE\ncheckout   0/3     3            0           33m\n",
    "NAME                       CPU(cores)   MEMORY(bytes)\ncheckout-7c9d8f6b5-x2kbc   812m         498Mi\n",
])
def test_other_get_tables_are_not_logs(text: str) -> None:
    found = parse_kube_text(KubeText(name="table", text=text))
    assert not found.logs and not found.pods


def test_json_log_lines_that_mention_kind_stay_log_text() -> None:
    text = ('{"level":"error","msg":"reconcile failed","kind":"Order","metadata":{"id":7}}\n'
            '{"level":"error","msg":"connect ECONNREFUSED 10.0.0.5:5432"}\n')
    found = parse_kube_text(KubeText(name="live:logs/shop/orders-7c9d8f6b5-x2kbc/orders.previous.log", text=text))
    [log] = found.logs
    assert len(log.lines) == 2 and log.previous


@pytest.mark.parametrize("command", [
    "$ kubectl -n web get pods",
    "$ kubectl --context prod-eu -n web get pods",
    "$ kubectl --namespace=web get pods",
    "bash-5.2$ oc -n web get pods -o wide",
])
def test_global_flags_before_the_verb_still_introduce_an_output(command: str) -> None:
    text = (f"{command}\nNAME              READY   STATUS             RESTARTS      AGE\n"
            "session-store-0   0/1     CrashLoopBackOff   11 (2m ago)   3h\n"
            "web-6d9c8b7a5f-4kq2m   1/1   Running   0   6d\n")
    found = parse_kube_text(KubeText(name="pods.txt", text=text))
    assert not found.logs
    pods = {p.name: p for p in found.pods}
    crashing = pods["session-store-0"].containers[0]
    assert crashing.current is not None and crashing.current.reason == "CrashLoopBackOff"
    assert crashing.ready is None  # not Running: READY says nothing about a crash
    assert pods["web-6d9c8b7a5f-4kq2m"].containers[0].ready is True


def test_events_cut_from_a_describe_are_about_the_described_object() -> None:
    text = ("$ kubectl -n billing describe pod invoice-web-84d7f9c6b1-vw2xq | sed -n '/Events/,$p'\n"
            "Events:\n  Type     Reason     Age                 From     Message\n"
            "  ----     ------     ----                ----     -------\n"
            "  Warning  Unhealthy  1m (x126 over 21m)  kubelet  Readiness probe failed: HTTP probe failed with "
            "statuscode: 404\n")
    [event] = parse_kube_text(KubeText(name="events.txt", text=text)).events
    assert (event.obj.label, event.obj.namespace, event.count) == ("pod/invoice-web-84d7f9c6b1-vw2xq", "billing", 126)


def test_another_programs_output_is_not_the_previous_kubectl_commands() -> None:
    from detectors.kubernetes.parse import split_commands

    text = ("$ kubectl -n shop logs api-7d9c8b6f5-wq2zt --tail=2\nERROR db refused\nINFO retry\n"
            "$ curl -sv https://shop.example.com 2>&1 | grep expire\n*  expire date: Nov 14 06:02:11 2026 GMT\n"
            "root@bastion:~# openssl version\nOpenSSL 3.0.13\n# HELP http_requests_total requests\n")
    parts = split_commands(text)
    assert parts[0] == ("kubectl -n shop logs api-7d9c8b6f5-wq2zt --tail=2", "ERROR db refused\nINFO retry")
    # the curl output is a part of its own, without the prompt line; a metrics comment starts no part
    assert [p for p in parts[1:] if "expire date" in p[1]] == [("", "*  expire date: Nov 14 06:02:11 2026 GMT")]
    assert any(p[1].startswith("OpenSSL 3.0.13\n# HELP") for p in parts)


def test_a_filtered_describes_events_section_is_the_described_objects() -> None:
    text = ("$ kubectl -n data describe pod pg-replica-1 | sed -n '/^Node-Selectors/,$p'\n"
            "Node-Selectors:              node-pool=db-arm\n"
            "Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n"
            "Events:\n"
            "  Type     Reason            Age   From               Message\n"
            "  ----     ------            ----  ----               -------\n"
            "  Warning  FailedScheduling  22m   default-scheduler  0/5 nodes are available: 2 node(s) had volume "
            "node affinity conflict, 3 node(s) didn't match Pod's node affinity/selector.\n")
    [event] = parse_kube_text(KubeText(name="pg.txt", text=text)).events
    assert (event.obj.label, event.obj.namespace, event.reason) == ("pod/pg-replica-1", "data", "FailedScheduling")


def test_a_get_commands_later_events_section_is_not_given_its_command() -> None:
    from detectors.kubernetes.parse import split_commands

    text = ("$ kubectl -n data get pods\nNAME    READY   STATUS    RESTARTS   AGE\npg-0    1/1     Running   0    "
            "      2d\n\nEvents:\n  Type     Reason   Age   From     Message\n  ----     ------   ----  ----     "
            "-------\n  Warning  BackOff  1m    kubelet  Back-off restarting failed container\n")
    parts = split_commands(text)
    assert [cmd for cmd, body in parts if body.lstrip().startswith("Events:")] == [""]


_STATUSES_JQ = ("$ kubectl get pod web-6f7d8c9b5d-x2k8q -n shop -o json | jq '.status.containerStatuses'\n"
                '[\n  {\n    "name": "web",\n    "ready": false,\n    "restartCount": 0,\n    "lastState": {},\n'
                '    "state": {\n      "waiting": {\n        "reason": "CreateContainerConfigError",\n'
                '        "message": "container has runAsNonRoot and image will run as root"\n      }\n    }\n  }\n]\n')


def test_a_pods_container_statuses_cut_by_jq_are_that_pods() -> None:
    [pod] = parse_kube_text(KubeText(name="pod.txt", text=_STATUSES_JQ)).pods
    [status] = pod.containers
    assert (pod.name, pod.namespace, status.container) == ("web-6f7d8c9b5d-x2k8q", "shop", "web")
    assert status.current is not None and status.current.reason == "CreateContainerConfigError"


def test_a_nodes_conditions_cut_by_yq_are_that_nodes() -> None:
    text = ("$ kubectl get node wrk-7 -o yaml | yq .status.conditions\n"
            '- lastHeartbeatTime: "2024-03-04T11:31:02Z"\n  lastTransitionTime: "2024-03-04T11:32:10Z"\n'
            "  message: Kubelet stopped posting node status.\n  reason: NodeStatusUnknown\n  status: Unknown\n"
            "  type: Ready\n")
    [node] = parse_kube_text(KubeText(name="node.txt", text=text)).nodes
    assert node.name == "wrk-7"
    assert [(c.type, c.status, c.reason) for c in node.conditions] == [("Ready", "Unknown", "NodeStatusUnknown")]


@pytest.mark.parametrize("command", [
    "kubectl get pods -n shop -o json | jq '.items[0].status.containerStatuses'",  # no one object named
    "kubectl get pod web-6f7d8c9b5d-x2k8q -n shop -o wide",  # not a filtered object
    "kubectl get deploy web -n shop -o json | jq .status",  # not a pod or node
])
def test_only_a_named_pod_or_nodes_filtered_output_is_read_as_its_part(command: str) -> None:
    from detectors.kubernetes.parse import filtered_object

    assert filtered_object(command) is None


def test_the_filtered_object_is_read_from_the_command() -> None:
    from detectors.kubernetes.parse import filtered_object

    ref = filtered_object("kubectl -n shop get po/web-1 --output=yaml | yq '.status'")
    assert ref is not None and (ref.kind, ref.name, ref.namespace) == ("Pod", "web-1", "shop")


def test_a_containers_last_state_kept_by_grep_from_a_describe_is_that_pods() -> None:
    text = ('$ kubectl -n shop describe pod cart-7c9d8f6b5-x2kbc | grep -A3 "Last State"\n'
            "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n"
            "      Started:      Mon, 04 Mar 2024 11:50:01 +0000\n")
    [pod] = parse_kube_text(KubeText(name="grep.txt", text=text)).pods
    [status] = pod.containers
    assert (pod.name, pod.namespace) == ("cart-7c9d8f6b5-x2kbc", "shop")
    assert status.last is not None and (status.last.reason, status.last.exit_code) == ("OOMKilled", 137)


def test_event_rows_kept_by_grep_from_a_describe_are_the_described_objects() -> None:
    text = ("$ kubectl -n shop describe pod web-5d6e7f8a9b-q1w2e | grep Warning\n"
            "  Warning  Failed     2m6s (x72 over 17m)  kubelet            Error: container has runAsNonRoot and image "
            'will run as root (pod: "web-5d6e7f8a9b-q1w2e_shop(3f1c)", container: web)\n')
    [event] = parse_kube_text(KubeText(name="grep.txt", text=text)).events
    assert (event.obj.label, event.reason, event.count) == ("pod/web-5d6e7f8a9b-q1w2e", "Failed", 72)


def test_a_containers_last_state_printed_by_jsonpath_is_that_pods_last_state() -> None:
    text = ("$ kubectl -n shop get pod cart-7c9d8f6b5-x2kbc -o jsonpath='{.status.containerStatuses[0].lastState}'\n"
            '{"terminated":{"exitCode":137,"finishedAt":"2024-03-04T11:55:12Z","reason":"OOMKilled"}}\n')
    [pod] = parse_kube_text(KubeText(name="jsonpath.txt", text=text)).pods
    [status] = pod.containers
    assert pod.name == "cart-7c9d8f6b5-x2kbc" and status.current is None
    assert status.last is not None and (status.last.state, status.last.reason) == ("terminated", "OOMKilled")


def test_plain_text_under_a_describe_command_is_not_read_as_its_state() -> None:
    text = "$ kubectl -n shop describe pod cart-7c9d8f6b5-x2kbc | grep -c Warning\n3\n"
    found = parse_kube_text(KubeText(name="count.txt", text=text))
    assert found.pods == [] and found.events == []


def test_a_nodes_conditions_kept_by_grep_from_its_describe_are_that_nodes() -> None:
    text = ("$ kubectl describe node wrk-2 | grep -A4 Conditions\n"
            "Conditions:\n"
            "  Type             Status    LastHeartbeatTime                 LastTransitionTime                Reason"
            "              Message\n"
            "  ----             ------    -----------------                 ------------------                ------"
            "              -------\n"
            "  Ready            Unknown   Mon, 04 Mar 2024 11:20:51 +0000   Mon, 04 Mar 2024 11:22:01 +0000   "
            "NodeStatusUnknown   Kubelet stopped posting node status.\n")
    [node] = parse_kube_text(KubeText(name="node.txt", text=text)).nodes
    assert node.name == "wrk-2" and [(c.type, c.status) for c in node.conditions] == [("Ready", "Unknown")]


# --- events printed one compact JSON object a line (``jq -c``) -------------------------------------------------
from detectors.kubernetes.objects import EVENT_LINE_KEYS, parse_event_lines  # noqa: E402

_EVENT_LINE_BASE = {"reason": "Failed", "message": "Error: ErrImagePull", "object": "pod/web-5d8f7c9b6-abcde"}
_EVENT_LINE_ROWS = {  # field -> (a key of its row, a value, how the parsed event shows it)
    "message": ("msg", "Error: ImagePullBackOff", lambda e: e.message),
    "object": ("obj", "web-5d8f7c9b6-zzzzz", lambda e: e.obj.name),
    "time": ("t", "2026-03-04T05:06:07Z", lambda e: e.last_seen.isoformat() if e.last_seen else ""),
    "kind": ("kind", "pod", lambda e: e.obj.kind),
    "namespace": ("ns", "shop", lambda e: e.obj.namespace),
    "type": ("type", "Warning", lambda e: e.type),
}


def test_every_event_line_field_has_a_tested_row() -> None:
    assert set(_EVENT_LINE_ROWS) == set(EVENT_LINE_KEYS)


@pytest.mark.parametrize("field", sorted(_EVENT_LINE_ROWS))
def test_an_event_line_field_is_read_under_its_renamed_key(field: str) -> None:
    key, value, shown = _EVENT_LINE_ROWS[field]
    assert key in EVENT_LINE_KEYS[field]
    base = {k: v for k, v in _EVENT_LINE_BASE.items() if k not in EVENT_LINE_KEYS[field]}
    if field == "kind":
        base["object"] = "web-5d8f7c9b6-abcde"
    line = json.dumps({**base, key: value})
    events = parse_event_lines(line + "\n" + line, origin="x.txt")
    assert events is not None and len(events) == 2
    expected = {"time": "2026-03-04T05:06:07+00:00", "kind": "Pod"}.get(field, value)
    assert shown(events[0]) == expected


def test_a_typed_object_name_gives_its_kind() -> None:
    events = parse_event_lines(json.dumps(_EVENT_LINE_BASE))
    assert events is not None and (events[0].obj.kind, events[0].obj.name) == ("Pod", "web-5d8f7c9b6-abcde")


@pytest.mark.parametrize("text", [
    '{"level":"error","msg":"pull failed","obj":"web-1"}',  # a JSON log line: no reason
    '{"reason":"Failed","obj":"web-1"}',  # no message
    '{"reason":"Failed","msg":"x"}',  # no object
    '{"reason":"Failed","msg":"x","obj":"web-1"}\nplain log line',  # not every line an event
    '{"reason": "Failed", "msg": ',  # broken JSON
    "",
])
def test_lines_that_are_not_all_events_are_not_events(text: str) -> None:
    assert parse_event_lines(text) is None


def test_jq_compact_events_in_a_paste_become_events() -> None:
    text = ("$ kubectl -n shop get events -o json | jq -c '.items[] | {t: .lastTimestamp, reason, obj: "
            ".involvedObject.name, msg: .message}'\n"
            '{"t":"2026-03-04T05:06:07Z","reason":"Failed","obj":"web-5d8f7c9b6-abcde","msg":"Failed to pull image '
            '\\"r.example/web:1\\": unauthorized: authentication required"}\n')
    findings = parse_kube_text(KubeText(name="web.txt", text=text))
    assert [(e.reason, e.obj.name) for e in findings.events] == [("Failed", "web-5d8f7c9b6-abcde")]
    assert not findings.logs
