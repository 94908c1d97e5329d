"""kubectl outputs pasted one after the other without their command lines are cut where each one starts."""

from __future__ import annotations

import re

import pytest

from bot.domain import KubeText
from detectors.kubernetes import parse_kube_text
from detectors.kubernetes.parse import split_commands
from detectors.kubernetes.shapes import split_shapes

from .factories import kube

_COMMAND_LINE = re.compile(r"^\$ kubectl .*\n", re.M)


def _bare(name: str) -> str:
    """A recorded output without its ``$ kubectl`` line, as pasted."""
    return _COMMAND_LINE.sub("", kube(name).text).strip("\n")


def _shapes(*bodies: str) -> list[str]:
    return [shape for shape, _ in split_shapes("\n".join(bodies))]


LOG = "2024-03-04T11:52:40.991Z ERROR [main] connect ECONNREFUSED 10.0.0.5:5432"


def test_a_describe_after_logs_starts_at_its_name_line() -> None:
    assert _shapes(LOG, _bare("describe_pod_oom.txt")) == ["text", "describe"]


def test_a_describe_ends_after_its_events_section() -> None:
    # a log line not shaped like a log (no timestamp) after the Events section is no longer the describe
    parts = split_shapes(_bare("describe_pod_oom.txt") + "\npanic: runtime error: invalid memory address\n")
    assert [shape for shape, _ in parts] == ["describe", "text"]
    assert parts[1][1].startswith("panic:")


def test_a_describe_ends_at_a_timestamped_log_line() -> None:
    describe = "Name:         web-1\nNamespace:    shop\nStatus:       Running\n"
    assert _shapes(describe + LOG) == ["describe", "text"]


def test_a_describe_keeps_its_own_events_section_and_several_blocks_stay_one() -> None:
    two = _bare("describe_pod_oom.txt") + "\n" + _bare("describe_node_notready.txt")
    assert _shapes(two) == ["describe"]


def test_a_describe_events_section_pasted_alone_is_events() -> None:
    alone = ("Events:\n  Type     Reason     Age   From     Message\n  ----     ------     ----  ----     -------\n"
             "  Warning  Unhealthy  1m    kubelet  Readiness probe failed: HTTP probe failed with statuscode: 404\n")
    assert _shapes(_bare("describe_pod_oom.txt"), alone, LOG) == ["describe", "events", "text"]


@pytest.mark.parametrize("name", ["get_events.txt", "get_events_wide.txt", "get_events_old.txt"])
def test_an_events_table_header_starts_events_and_its_end_is_found(name: str) -> None:
    assert _shapes(LOG, _bare(name), "", LOG) == ["text", "events", "text"]


def test_a_namespaced_events_table_starts_events() -> None:
    table = ("NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT          MESSAGE\n"
             "shop        2m          Warning   BackOff   pod/api-0       Back-off restarting failed container")
    assert _shapes(_bare("describe_node_notready.txt"), table) == ["describe", "events"]


def test_a_get_table_header_starts_a_table_and_a_log_line_ends_it() -> None:
    table = ("NAME                     READY   STATUS             RESTARTS      AGE\n"
             "api-6c8d7f9b4-lm2xs      0/1     CrashLoopBackOff   7 (2m ago)    20m")
    assert _shapes(_bare("get_events.txt"), table, LOG) == ["events", "table", "text"]


def test_tables_of_one_get_stay_one_part() -> None:
    pods_and_svc = ("NAME        READY   STATUS    RESTARTS   AGE\npod/web-0   1/1     Running   0          2d\n\n"
                    "NAME          TYPE        CLUSTER-IP    PORT(S)    AGE\nservice/web   ClusterIP   10.0.0.9      80/TCP     9d")
    assert _shapes(pods_and_svc) == ["table"]


def test_a_timestamp_column_is_a_row_not_a_log_line() -> None:
    table = ("NAME      LAST SEEN                STATUS\n"
             "web-0     2024-03-04T11:52:40Z     Failed")
    assert _shapes(table) == ["table"]


def test_a_rollout_history_starts_at_its_object_line() -> None:
    assert _shapes(LOG, _bare("rollout_history.txt")) == ["text", "rollout"]


def test_rollout_status_lines_are_their_own_part() -> None:
    status = ('Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n'
              'error: deployment "web" exceeded its progress deadline')
    assert _shapes("INFO:     Uvicorn running on http://0.0.0.0:8000", status) == ["text", "status"]


def test_yaml_objects_start_at_api_version_and_end_at_a_line_that_is_not_yaml() -> None:
    ledger = _bare("pod_ledger.yaml")
    assert _shapes(_bare("get_events.txt"), ledger, LOG) == ["events", "yaml", "text"]
    assert _shapes(ledger, ledger) == ["yaml", "yaml"]  # two objects pasted without ---
    assert _shapes(ledger + "\n---\n" + ledger) == ["yaml"]  # one multi-document output


def test_a_json_object_starts_at_a_lone_brace_and_ends_at_its_closing_one() -> None:
    obj = _bare("pod_api.json")
    assert obj.startswith("{")
    assert _shapes(LOG, obj, LOG) == ["text", "json", "text"]
    assert _shapes('{"level":"info","msg":"started"}\n' + LOG) == ["text"]  # JSON log lines are logs


def test_pasted_outputs_without_commands_are_all_recognised() -> None:
    text = "\n\n".join([_bare("describe_node_notready.txt"), _bare("get_events.txt"),
                        "Error: connect ECONNREFUSED 10.0.0.5:5432"])
    found = parse_kube_text(KubeText(name="incident.txt", text=text))
    assert len(found.nodes) == 1 and len(found.events) == 7
    assert [x.lines for x in found.logs] == [["Error: connect ECONNREFUSED 10.0.0.5:5432"]]


def test_a_command_keeps_its_output_and_not_what_was_pasted_after_it() -> None:
    text = ("$ kubectl -n shop get pods\nNAME    READY   STATUS    RESTARTS   AGE\nweb-0   1/1     Running   0     2d\n\n"
            "NAME          TYPE        CLUSTER-IP    PORT(S)    AGE\nservice/web   ClusterIP   10.0.0.9      80/TCP     9d\n"
            "\n" + _bare("get_events.txt"))
    parts = split_commands(text)
    assert [cmd for cmd, _ in parts] == ["kubectl -n shop get pods", ""]
    assert parts[1][1].startswith("LAST SEEN")


def test_a_table_pasted_without_its_namespace_takes_the_one_the_other_outputs_name() -> None:
    table = ("NAME                     POD-SELECTOR   AGE\ndefault-deny-ingress     <none>         18m\n\n"
             "NAME          READY   STATUS    RESTARTS   AGE\nweb-0         1/1     Running   0          2d")
    found = parse_kube_text(KubeText(name="x.txt", text=_bare("describe_pod_oom.txt") + "\n\n" + table))
    assert {p.namespace for p in found.pods} == {"shop"} and [p.namespace for p in found.policies] == ["shop"]
    # outputs of two namespaces: nothing is guessed
    other = _bare("describe_pod_oom.txt").replace("Namespace:        shop", "Namespace:        billing")
    events = ("NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT          MESSAGE\n"
              "shop        2m          Warning   BackOff   pod/api-0       Back-off restarting failed container")
    two = parse_kube_text(KubeText(name="x.txt", text=other + "\n\n" + events + "\n\n" + table))
    assert "" in {p.namespace for p in two.pods}


def test_event_rows_whose_header_a_filter_removed_start_events_after_a_blank_line() -> None:
    # ``kubectl get events -A | grep node-7`` keeps the rows, not the header; pasted after a journal and before pods
    journal = "Jul 14 03:05:22 node-7 kubelet[1107]: I0714 03:05:22.031877 1107 eviction_manager.go:377] reclaim pids"
    rows = ("default   38m   Normal    NodeHasInsufficientPID   node/node-7        Node node-7 status is now: "
            "NodeHasInsufficientPID\n"
            "ci        21m   Warning   Evicted                  pod/runner-7c6d-kp2m4  The node was low on resource: pids.")
    table = "NAME      READY   STATUS             RESTARTS      AGE\napi-0     0/1     CrashLoopBackOff   7 (90s ago)   35m"
    assert _shapes(journal, "", rows, "", table) == ["text", "events", "table"]
    found = parse_kube_text(KubeText(name="paste.txt", text="\n".join([journal, "", rows])))
    assert {e.reason for e in found.events} == {"NodeHasInsufficientPID", "Evicted"}


def test_an_event_like_line_inside_a_log_does_not_cut_it() -> None:
    # no blank line before it: a log line that quotes an event stays in the log
    text = LOG + "\nWarning  BackOff  pod/api-0  Back-off restarting failed container\n" + LOG
    assert _shapes(text) == ["text"]


_RS_EVENTS = """Events:
  Type     Reason        Age   From                   Message
  ----     ------        ----  ----                   -------
  Warning  FailedCreate  12m   replicaset-controller  Error creating: pods "amber-api-6c9d7f8b4-q2x7z" is forbidden: exceeded quota: team-quota"""
_PENDING = """NAME                          READY   STATUS    RESTARTS   AGE
birch-worker-5f7c9d8b6-4kq2m   0/1     Pending   0          9m
birch-worker-5f7c9d8b6-9zt8w   0/1     Pending   0          9m"""
_SCHEDULING = """Events:
  Type     Reason            Age   From               Message
  ----     ------            ----  ----               -------
  Warning  FailedScheduling  9m    default-scheduler  0/6 nodes are available: 6 Insufficient cpu."""


def test_an_events_section_pasted_alone_is_about_the_pod_its_controller_names() -> None:
    found = parse_kube_text(KubeText(name="paste.txt", text=_RS_EVENTS))
    assert [(e.obj.kind, e.obj.name) for e in found.events] == [("Pod", "amber-api-6c9d7f8b4-q2x7z")]


def test_an_events_section_pasted_with_one_workloads_pods_is_about_that_workload() -> None:
    found = parse_kube_text(KubeText(name="paste.txt", text=f"{_PENDING}\n\n{_SCHEDULING}"))
    assert {e.obj.name.rsplit("-", 1)[0] for e in found.events} == {"birch-worker-5f7c9d8b6"}
    # pods of two workloads: the section could be either's, so it stays unnamed
    other = "cedar-web-7d8f9c6b5-x2k9q       1/1     Running   0          2d"
    found = parse_kube_text(KubeText(name="paste.txt", text=f"{_PENDING}\n{other}\n\n{_SCHEDULING}"))
    assert [(e.obj.kind, e.obj.name) for e in found.events] == [("", "")]
