"""Kubernetes findings as decisive signals: named per docs/causes.md, aggregated, quoting the evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import ChangeEvent, KubeText, Signal
from detectors.changes import detect_change_signals
from detectors.kubernetes import container_logs, detect_kubernetes_signals
from detectors.registry import load_detectors

from .factories import ALERT_TIME, DATA, context, kube


def _by(signals: list[Signal], service: str, kind: str) -> Signal:
    found = [s for s in signals if s.service == service and s.kind == kind]
    assert found, f"no {kind} on {service}: {[(s.service, s.kind) for s in signals]}"
    return max(found, key=lambda s: s.score)


def test_oom_killed_container_is_a_decisive_oom_kill_on_its_deployment() -> None:
    signals = detect_kubernetes_signals(context(kube("describe_pod_oom.txt"), kube("get_events.txt")))
    oom = _by(signals, "checkout", "oom_kill")
    assert oom.source == "kubernetes" and oom.detector == "k8s.container_state" and oom.score >= 0.9
    assert oom.attributes["decisive"] is True and oom.attributes["rule"] == "oom.terminated"
    assert (oom.attributes["exit_code"], oom.attributes["reason"], oom.attributes["count"]) == (137, "OOMKilled", 6)
    assert "pod/checkout-7c9d8f6b5-x2kbc" in oom.evidence[0].summary and "OOMKilled" in oom.evidence[0].summary
    assert oom.started_at is not None and oom.started_at.isoformat() == "2024-03-04T11:52:41+00:00"
    crash = _by(signals, "checkout", "crash_loop")
    assert crash.score < oom.score and crash.score <= 0.55
    # the describe's BackOff (x24) and the events table's copy of it are one signal, counted once
    backoff = [s for s in signals if s.attributes.get("reason") == "BackOff" and s.service == "checkout"]
    assert len(backoff) == 1 and backoff[0].attributes["count"] == 24
    assert backoff[0].started_at == ALERT_TIME - timedelta(minutes=27)


def test_a_rollout_is_context_not_a_cause() -> None:
    signals = detect_kubernetes_signals(context(kube("get_events.txt")))
    rollout = next(s for s in signals if s.detector == "k8s.rollout")
    assert (rollout.source, rollout.service, rollout.kind) == ("changes", "checkout", "deploy")
    assert rollout.attributes["decisive"] is False
    assert rollout.started_at == ALERT_TIME - timedelta(minutes=35)


def test_image_pull_failures_by_kind_of_failure() -> None:
    missing = detect_kubernetes_signals(context(kube("get_events_wide.txt")))
    assert {(s.service, s.kind) for s in missing} == {("web", "bad_deploy")}
    unreachable = _by(detect_kubernetes_signals(context(kube("pod_api.json"))), "api", "dependency_failure")
    assert unreachable.attributes["culprit"] == "registry.example.com"
    assert unreachable.attributes["rule"] == "image.registry_unreachable"


def test_catch_all_pull_events_follow_the_specific_reading() -> None:
    text = ("LAST SEEN   TYPE      REASON    OBJECT                  MESSAGE\n"
            '3m          Warning   Failed    pod/api-6c8d7f9b4-lm2xs   Failed to pull image "registry.example.com/'
            'shop/api:2.0": failed to authorize: failed to fetch oauth token: 401 Unauthorized\n'
            "3m          Warning   Failed    pod/api-6c8d7f9b4-lm2xs   Error: ErrImagePull\n"
            '1m          Normal    BackOff   pod/api-6c8d7f9b4-lm2xs   Back-off pulling image "registry.example.com/'
            'shop/api:2.0"\n')
    signals = detect_kubernetes_signals(context(KubeText(name="events", text=text)))
    assert {(s.service, s.kind) for s in signals} == {("api", "config_change")}


def test_node_faults_are_named_on_the_node() -> None:
    signals = detect_kubernetes_signals(context(kube("describe_node_notready.txt"), kube("get_events_old.txt")))
    node = _by(signals, "node-3", "node_failure")
    assert node.score >= 0.9 and node.attributes["culprit"] == "node-3"
    assert node.attributes["allocated"]["memory"] == {"requests_pct": 76, "limits_pct": 89}
    evicted = detect_kubernetes_signals(context(kube("events_v1.yaml")))
    disk = _by(evicted, "worker-7", "disk_full")
    assert (disk.attributes["rule"], disk.attributes["seen_on"], disk.attributes["culprit"]) == (
        "evict.disk", "search", "worker-7")
    assert all(s.service == "worker-7" for s in evicted)


def test_jobs_and_cronjobs_are_named_on_the_cronjob() -> None:
    signals = detect_kubernetes_signals(context(kube("job_backup.yaml"), kube("eventlist.json")))
    backoff = _by(signals, "backup", "crash_loop")
    assert backoff.attributes["count"] == 1 and backoff.attributes["object"] == "job/backup-28475520"
    mount = _by(signals, "nightly-report", "config_change")
    assert mount.attributes["count"] == 9 and "nightly-report-config" in mount.evidence[0].summary
    deadline = _by(signals, "nightly-report", "latency_increase")
    assert deadline.attributes["decisive"] is False


def test_statefulset_pod_segfault() -> None:
    signals = detect_kubernetes_signals(context(kube("pod_ledger.yaml")))
    crash = _by(signals, "ledger", "crash_loop")
    assert crash.attributes["exit_code"] == 139 and crash.attributes["rule"] == "exit.segfault"


def test_k8s_event_rows_of_events_jsonl() -> None:
    rows = [
        ChangeEvent(ts=ALERT_TIME - timedelta(minutes=9), kind="k8s_event", service="payments",
                    text='Warning  Failed  pod/payments-5d8f7c9b6-t7x2q  Error: secret "payments-db" not found'),
        ChangeEvent(ts=ALERT_TIME - timedelta(minutes=8), kind="k8s_event", service="ledger",
                    text="Last State: Terminated, Reason: OOMKilled, Exit Code: 137"),
        ChangeEvent(ts=ALERT_TIME - timedelta(minutes=7), kind="k8s_event", service="node-5",
                    text="Node node-5 status is now: NodeNotReady"),
        ChangeEvent(ts=ALERT_TIME - timedelta(minutes=6), kind="k8s_event", service="web",
                    text="Successfully pulled image in 1.2s"),
        ChangeEvent(ts=ALERT_TIME - timedelta(minutes=5), kind="deploy", service="web", text="Back-off"),
    ]
    signals = detect_kubernetes_signals(context(events=rows))
    assert {(s.service, s.kind) for s in signals} == {("payments", "config_change"), ("ledger", "oom_kill"),
                                                      ("node-5", "node_failure")}
    secret = _by(signals, "payments", "config_change")
    assert secret.started_at == ALERT_TIME - timedelta(minutes=9) and "payments-db" in secret.evidence[0].summary


def test_a_warning_seen_once_long_before_the_alert_is_older_than_the_incident() -> None:
    text = "Warning  Unhealthy  pod/cache-0  Liveness probe failed: timeout: context deadline exceeded"
    old = [ChangeEvent(ts=ALERT_TIME - timedelta(minutes=70), kind="k8s_event", service="cache", text=text)]
    [stale] = detect_kubernetes_signals(context(events=old))
    assert stale.attributes["decisive"] is False and stale.attributes["predates_alert"] is True
    fresh = [ChangeEvent(ts=ALERT_TIME - timedelta(minutes=10), kind="k8s_event", service="cache", text=text)]
    [now] = detect_kubernetes_signals(context(events=fresh))
    assert now.attributes["decisive"] is True and stale.score < now.score
    again = [*old, ChangeEvent(ts=ALERT_TIME - timedelta(minutes=5), kind="k8s_event", service="cache", text=text)]
    assert all(s.attributes["decisive"] for s in detect_kubernetes_signals(context(events=again)))


def test_the_changes_detector_keeps_k8s_events_as_context_without_a_cause_kind() -> None:
    rows = [ChangeEvent(ts=ALERT_TIME - timedelta(minutes=3), kind=kind, service="api",
                        text="Warning  FailedCreate  replicaset/api-6c8d7f9b4  exceeded quota: limits.cpu limit")
            for kind in ("k8s_event", "k8s")]
    assert [s.kind for s in detect_change_signals(rows, alert_time=ALERT_TIME)] == ["k8s", "k8s"]


def test_container_logs_by_workload() -> None:
    texts = [kube("describe_pod_oom.txt"), kube("logs_previous.txt", as_name="prev.log"),
             KubeText(name="live:logs/payments/ledger-0/ledger.previous.log", text="panic: boom\n")]
    logs = container_logs(texts)
    assert set(logs) == {"checkout", "ledger"}
    assert logs["checkout"][-3] == "java.lang.OutOfMemoryError: Java heap space"
    # without a describe, the file name says which pod
    alone = container_logs([kube("logs_previous.txt", as_name="checkout-7c9d8f6b5-x2kbc-previous.log")])
    assert list(alone) == ["checkout"]
    # a file name with no name in it (a counter, a date) leaves the lines to the incident's service
    for unnamed in ("1.txt", "2026-11-27.log", "logs-previous.txt"):
        assert list(container_logs([kube("logs_previous.txt", as_name=unnamed)])) == [""]


def test_crash_signal_says_container_logs_are_there() -> None:
    signals = detect_kubernetes_signals(context(kube("describe_pod_oom.txt"), kube("logs_previous.txt")))
    assert _by(signals, "checkout", "crash_loop").attributes["container_logs"] is True


def test_registered_as_a_builtin_detector() -> None:
    detectors = dict(load_detectors())
    assert "kubernetes" in detectors
    assert detectors["kubernetes"](context(kube("pod_ledger.yaml")))


def test_nothing_kubernetes_gives_no_signal() -> None:
    assert detect_kubernetes_signals(context(KubeText(name="app.log", text="INFO all good\n"))) == []


def test_a_claim_is_named_on_the_workload_of_the_pod_using_it() -> None:
    text = """Name:          data-ledger-0
Namespace:     payments
StorageClass:  fast-ssd
Status:        Pending
Volume:
Access Modes:
VolumeMode:    Filesystem
Used By:       ledger-0
Events:
  Type     Reason              Age                 From                         Message
  ----     ------              ----                ----                         -------
  Warning  ProvisioningFailed  12s (x9 over 2m)    persistentvolume-controller  storageclass.storage.k8s.io "fast-ssd" not found
"""
    signals = detect_kubernetes_signals(context(KubeText(name="pvc", text=text)))
    claim = _by(signals, "ledger", "config_change")
    assert claim.attributes["object"] == "persistentvolumeclaim/data-ledger-0" and claim.attributes["count"] == 9


def test_a_static_pod_is_named_without_its_node() -> None:
    text = ('{"kind": "Pod", "metadata": {"name": "kube-apiserver-cp-1", "namespace": "kube-system", '
            '"ownerReferences": [{"kind": "Node", "name": "cp-1", "controller": true}]}, "spec": {"nodeName": "cp-1"},'
            ' "status": {"containerStatuses": [{"name": "kube-apiserver", "restartCount": 3, "state": {"running": {}},'
            ' "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}')
    signals = detect_kubernetes_signals(context(KubeText(name="live:pod/kube-system/kube-apiserver-cp-1", text=text)))
    assert _by(signals, "kube-apiserver", "oom_kill").attributes["count"] == 3


def test_cut_and_shuffled_outputs_never_raise() -> None:
    import random

    rng = random.Random(11)
    originals = [p.read_text(encoding="utf-8") for p in sorted(DATA.iterdir())]
    for _ in range(150):
        text = rng.choice(originals)
        lines = text.split("\n")
        action = rng.randrange(4)
        if action == 0:
            text = text[: rng.randrange(len(text) + 1)]
        elif action == 1:
            rng.shuffle(lines)
            text = "\n".join(lines)
        elif action == 2:
            text = "\n".join(line[: rng.randrange(len(line) + 1)] for line in lines)
        else:
            text = "".join(rng.choice(text) for _ in range(400))
        rows = [ChangeEvent(ts=ALERT_TIME, kind="k8s_event", service="x", text=line) for line in lines[:5]]
        signals = detect_kubernetes_signals(context(KubeText(name="fuzz", text=text), events=rows))
        assert all(0.0 <= s.score <= 1.0 and s.service for s in signals)


def test_replicaset_ages_date_a_rollout() -> None:
    rows = [("NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"),
            ("checkout-7c9d8f6b5", "3", "3", "0", "18m", "checkout", "registry.example.com/shop/checkout:1.14.2",
             "app=checkout"),
            ("checkout-5f8b9d7c4", "0", "0", "0", "9d", "checkout", "registry.example.com/shop/checkout:1.14.1",
             "app=checkout"),
            ("cart-6d9f7b8c5", "2", "2", "2", "30d", "cart", "registry.example.com/shop/cart:3.0", "app=cart")]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    text = "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
    [rollout] = [s for s in detect_kubernetes_signals(context(KubeText(name="rs", text=text)))
                 if s.detector == "k8s.rollout"]
    assert (rollout.service, rollout.kind) == ("checkout", "deploy")
    assert rollout.started_at == ALERT_TIME - timedelta(minutes=18)
    assert "checkout:1.14.1 -> registry.example.com/shop/checkout:1.14.2" in rollout.title


def test_a_pod_told_its_node_is_not_ready_blames_that_node() -> None:
    scheduled = ("LAST SEEN   TYPE      REASON         OBJECT                    MESSAGE\n"
                 "40m         Normal    Scheduled      pod/api-6c8d7f9b4-lm2xs   Successfully assigned shop/"
                 "api-6c8d7f9b4-lm2xs to node-7\n"
                 "2m          Warning   NodeNotReady   pod/api-6c8d7f9b4-lm2xs   Node is not ready\n")
    signals = detect_kubernetes_signals(context(KubeText(name="ev", text=scheduled)))
    assert {(s.service, s.kind) for s in signals} == {("node-7", "node_failure")}
    # no Scheduled event: the one node the evidence is about
    alone = detect_kubernetes_signals(context(kube("get_events_old.txt")))
    assert {(s.service, s.kind) for s in alone} == {("node-3", "node_failure")}


def test_a_fresh_deny_all_policy_blocks_the_workloads_of_its_namespace() -> None:
    pods = ("$ kubectl get pods -n billing\n"
            "NAME                          READY   STATUS    RESTARTS   AGE\n"
            "invoices-6f7d8c9b5-k2l4m      1/1     Running   0          12d\n"
            "invoices-6f7d8c9b5-p9q8r      1/1     Running   0          12d\n"
            "ledger-0                      1/1     Running   0          40d\n")
    signals = detect_kubernetes_signals(context(kube("describe_networkpolicy.txt"), KubeText(name="p", text=pods)))
    blocked = {(s.service, s.kind) for s in signals}
    assert blocked == {("invoices", "network_policy_block"), ("ledger", "network_policy_block")}
    one = _by(signals, "invoices", "network_policy_block")
    assert one.attributes["decisive"] is True and one.attributes["isolates"] == ["ingress"]
    assert one.started_at is not None and one.started_at.isoformat() == "2024-03-04T11:41:20+00:00"
    assert "networkpolicy/deny-all-ingress" in one.evidence[0].summary


def test_policies_from_a_table_and_from_yaml() -> None:
    table = ("$ kubectl get networkpolicy --namespace=billing\n"
             "NAME                 POD-SELECTOR    AGE\n"
             "allow-from-gateway   app=invoices    300d\n"
             "lock-invoices        app=invoices    9m\n")
    signals = detect_kubernetes_signals(context(KubeText(name="np", text=table)))
    [recent] = signals
    assert (recent.service, recent.attributes["decisive"]) == ("invoices", False)  # a table does not say it isolates
    assert recent.started_at == ALERT_TIME - timedelta(minutes=9)
    yaml_text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: egress-lockdown\n"
                 "  namespace: billing\n  creationTimestamp: \"2024-03-04T11:50:00Z\"\nspec:\n  podSelector:\n"
                 "    matchLabels:\n      app.kubernetes.io/name: invoices\n  policyTypes:\n  - Egress\n")
    [locked] = detect_kubernetes_signals(context(KubeText(name="np.yaml", text=yaml_text)))
    assert (locked.service, locked.attributes["decisive"], locked.attributes["isolates"]) == (
        "invoices", True, ["egress"])


def test_a_fresh_policy_whose_workloads_callers_then_fail_to_reach_it_is_decisive() -> None:
    table = ("$ kubectl -n kube-system get networkpolicy\n"
             "NAME               POD-SELECTOR             AGE\n"
             "restrict-metrics   k8s-app=metrics-server   40m\n\n"
             "$ kubectl -n kube-system get pods\n"
             "NAME                             READY   STATUS    RESTARTS   AGE\n"
             "metrics-server-5f8b7c9d6-2xk4m   1/1     Running   0          23d\n")
    metric = ("Warning  FailedGetResourceMetric  horizontalpodautoscaler/web  failed to get cpu utilization: unable to get "
              "metrics for resource cpu: unable to fetch metrics from resource metrics API: the server is currently "
              "unable to handle the request (get pods.metrics.k8s.io)")
    after = [ChangeEvent(ts=ALERT_TIME - timedelta(minutes=25), kind="k8s_event", service="web", text=metric)]
    signals = detect_kubernetes_signals(context(KubeText(name="np", text=table), events=after))
    policy = _by(signals, "metrics-server", "network_policy_block")
    [unreached] = [s for s in signals if s.kind == "dependency_failure"]
    assert policy.attributes["decisive"] is True and policy.score > unreached.score
    # the callers failed before the policy was made: it is not why
    before = [ChangeEvent(ts=ALERT_TIME - timedelta(minutes=50), kind="k8s_event", service="web", text=metric),
              ChangeEvent(ts=ALERT_TIME - timedelta(minutes=20), kind="k8s_event", service="web", text=metric)]
    signals = detect_kubernetes_signals(context(KubeText(name="np", text=table), events=before))
    assert _by(signals, "metrics-server", "network_policy_block").attributes["decisive"] is False


def test_an_autoscaler_at_its_maximum_with_a_metric_over_target() -> None:
    text = ("NAME       REFERENCE             TARGETS            MINPODS   MAXPODS   REPLICAS   AGE\n"
            "checkout   Deployment/checkout   cpu: 312%/70%      3         10        10         2d\n"
            "cart       Deployment/cart       cpu: 40%/70%       2         10        2          2d\n")
    signals = detect_kubernetes_signals(context(KubeText(name="hpa", text=text)))
    assert {(s.service, s.kind) for s in signals} == {("checkout", "traffic_spike")}
    assert "10/10 replicas" in signals[0].evidence[0].summary


def test_an_autoscaler_is_named_on_the_workload_it_scales() -> None:
    text = """Name:                                                  checkout-hpa
Namespace:                                             shop
Reference:                                             Deployment/checkout
Min replicas:                                          3
Max replicas:                                          10
Deployment pods:                                       10 current / 10 desired
Conditions:
  Type            Status  Reason            Message
  ----            ------  ------            -------
  AbleToScale     True    ReadyForNewScale  recommended size matches current size
  ScalingActive   True    ValidMetricFound  the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)
  ScalingLimited  True    TooManyReplicas   the desired replica count is more than the maximum replica count
Events:           <none>
"""
    signals = detect_kubernetes_signals(context(KubeText(name="hpa", text=text)))
    assert {(s.service, s.kind, s.attributes["reason"]) for s in signals} == {
        ("checkout", "traffic_spike", "TooManyReplicas")}


def test_logs_that_name_no_workload_are_kept_apart() -> None:
    texts = [kube("describe_pod_oom.txt"), kube("pod_ledger.yaml"),
             KubeText(name="previous.txt", text="fatal: cannot open /etc/app/config.toml\n")]
    logs = container_logs(texts)
    assert logs[""] == ["fatal: cannot open /etc/app/config.toml"]  # two workloads known, none named


def test_a_rollout_that_exceeded_its_progress_deadline() -> None:
    text = ("$ kubectl rollout status deployment/checkout -n shop\n"
            "Waiting for deployment \"checkout\" rollout to finish: 1 of 3 updated replicas are available...\n"
            "error: deployment \"checkout\" exceeded its progress deadline\n")
    signals = [s for s in detect_kubernetes_signals(context(KubeText(name="status", text=text)))
               if s.source == "kubernetes"]
    assert [(s.service, s.kind, s.attributes["rule"]) for s in signals] == [
        ("checkout", "bad_deploy", "deploy.progress_deadline")]


def test_a_progress_deadline_follows_the_finding_that_says_why() -> None:
    text = ("$ kubectl rollout status deployment/invoice-web -n billing\n"
            "error: deployment \"invoice-web\" exceeded its progress deadline\n"
            "$ kubectl -n billing get events\n"
            "LAST SEEN   TYPE      REASON      OBJECT                             MESSAGE\n"
            "1m          Warning   Unhealthy   pod/invoice-web-84d7f9c6b1-vw2xq   Readiness probe failed: HTTP probe "
            "failed with statuscode: 404\n")
    signals = [s for s in detect_kubernetes_signals(context(KubeText(name="rollout", text=text)))
               if s.source == "kubernetes"]
    # the stalled rollout is the symptom; the probe on a path the new version no longer serves is the finding
    assert [(s.service, s.kind, s.attributes["rule"]) for s in signals] == [
        ("invoice-web", "config_change", "probe.wrong_path")]


_PODS = ("$ kubectl -n billing get pods\n"
         "NAME                           READY   STATUS                  RESTARTS      AGE\n"
         "billing-api-5c8d7f6b49-2xkqv   0/1     Init:CrashLoopBackOff   6 (94s ago)   9m\n"
         "{old}")


def test_a_crash_confined_to_the_new_revision_is_the_deploy() -> None:
    old = ("billing-api-6f9b8c7d55-h4m2p   1/1     Running                 0             3d\n"
           "billing-api-6f9b8c7d55-q7wzt   1/1     Running                 0             3d\n")
    signals = detect_kubernetes_signals(context(KubeText(name="pods", text=_PODS.format(old=old))))
    deploy = _by(signals, "billing-api", "bad_deploy")
    assert str(deploy.attributes["rule"]).endswith(".new_revision")
    assert not [s for s in signals if s.kind == "crash_loop"]


@pytest.mark.parametrize("old", [
    "",  # no other revision to compare with
    "billing-api-6f9b8c7d55-h4m2p   0/1     CrashLoopBackOff        4             3d\n",  # the old one crashes too
    "billing-api-5c8d7f6b49-k2m4n   1/1     Running                 0             9m\n",  # same revision runs
])
def test_a_crash_without_a_healthy_other_revision_stays_a_crash(old: str) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="pods", text=_PODS.format(old=old))))
    assert _by(signals, "billing-api", "crash_loop")
    assert not [s for s in signals if s.kind == "bad_deploy"]


def test_a_drain_refused_by_a_disruption_budget_names_the_protected_workload() -> None:
    text = ("LAST SEEN   TYPE      REASON           OBJECT        MESSAGE\n"
            "46m         Warning   FailedDraining   node/node-7   Failed to drain node: 1 pod(s) could not be "
            "evicted: zookeeper-1 (PodDisruptionBudget streaming/zookeeper-pdb allows 0 disruptions)\n")
    signal = _by(detect_kubernetes_signals(context(KubeText(name="events", text=text))), "zookeeper", "config_change")
    assert signal.attributes["rule"] == "drain.pdb" and signal.attributes["seen_on"] == "node-7"


_HPA = ("LAST SEEN   TYPE      REASON                    OBJECT                           MESSAGE\n"
        "45s         Warning   FailedGetResourceMetric   horizontalpodautoscaler/frontend  failed to get cpu "
        "utilization: unable to get metrics for resource cpu: unable to fetch metrics from {api} metrics API: the "
        "server is currently unable to handle the request (get {resource})\n")


def test_an_autoscaler_blind_without_its_metrics_api_blames_the_server_behind_it() -> None:
    text = _HPA.format(api="resource", resource="pods.metrics.k8s.io")
    signal = _by(detect_kubernetes_signals(context(KubeText(name="events", text=text))), "frontend",
                 "dependency_failure")
    assert signal.attributes["culprit"] == "metrics-server" and signal.attributes["rule"] == "hpa.metrics_api_down"


def test_an_external_metrics_api_names_the_adapter_only_when_the_evidence_shows_one() -> None:
    text = _HPA.format(api="external", resource="queue_depth.external.metrics.k8s.io")
    unseen = detect_kubernetes_signals(context(KubeText(name="events", text=text)))
    assert [(s.kind, s.attributes["rule"]) for s in unseen if s.source == "kubernetes"] == [
        ("traffic_spike", "hpa.metrics")]
    pods = ("$ kubectl -n monitoring get pods\nNAME                                  READY   STATUS             "
            "RESTARTS   AGE\nprometheus-adapter-7f9c8d6b5a-6kq4t   0/1     ImagePullBackOff   0          47m\n")
    seen = detect_kubernetes_signals(context(KubeText(name="events", text=text), KubeText(name="pods", text=pods)))
    assert _by(seen, "frontend", "dependency_failure").attributes["culprit"] == "prometheus-adapter"


def test_a_pods_unnamed_sandbox_failure_takes_the_reason_a_later_attempt_names() -> None:
    text = ("$ kubectl -n shop describe pod cart-5d6e7f8a9b-w2x3c | sed -n '/^Events:/,$p'\n"
            "Events:\n"
            "  Type     Reason                  Age                  From     Message\n"
            "  ----     ------                  ----                 ----     -------\n"
            "  Warning  FailedCreatePodSandBox  24m                  kubelet  Failed to create pod sandbox: rpc error: "
            'code = Unknown desc = failed to setup network for sandbox "7c1e": plugin type="azure-vnet" failed (add): '
            "IPAM Invoker Add failed with error: Failed to get IP address from CNS: connection refused\n"
            "  Warning  FailedCreatePodSandBox  2m (x40 over 23m)    kubelet  Failed to create pod sandbox: rpc error: "
            'code = Unknown desc = failed to setup network for sandbox "e2f1": plugin type="azure-vnet" failed (add): '
            "IPAM Invoker Add failed with error: Failed to allocate address: No available addresses\n"
            "  Normal   Scheduled               25m                  default-scheduler  Successfully assigned "
            "shop/cart-5d6e7f8a9b-w2x3c to node-pool-a-3\n")
    signals = [s for s in detect_kubernetes_signals(context(KubeText(name="describe.txt", text=text)))
               if s.attributes.get("reason") == "FailedCreatePodSandBox"]
    assert [(s.service, s.kind) for s in signals] == [("node-pool-a-3", "resource_quota")]


@pytest.mark.parametrize(("claim", "pods", "workload"), [
    ("data-mongo-2", "", "mongo"),  # <template>-<statefulset>-<ordinal>, nothing else known
    ("datadir-catalog-mongo-2", "", "catalog-mongo"),
    ("pg-data-orders-pg-0", "orders-pg-0", "orders-pg"),  # the known pod the claim ends with
    ("wiki-uploads", "", "wiki-uploads"),  # no ordinal: the claim's own name
])
def test_a_claim_without_a_read_owner_is_named_by_the_statefulset_convention(claim: str, pods: str,
                                                                             workload: str) -> None:
    table = ("$ kubectl -n db get pods\nNAME   READY   STATUS    RESTARTS   AGE\n"
             f"{pods}   1/1     Running   0          2d\n\n") if pods else ""
    text = (table + "$ kubectl -n db get events\nLAST SEEN   TYPE      REASON               OBJECT"
            "                               MESSAGE\n"
            f"2m          Warning   ProvisioningFailed   persistentvolumeclaim/{claim}   storageclass.storage.k8s.io "
            '"fast-ssd" not found\n')
    signals = detect_kubernetes_signals(context(KubeText(name="db.txt", text=text)))
    assert [(s.service, s.kind) for s in signals if s.attributes.get("reason") == "ProvisioningFailed"] == [
        (workload, "config_change")]


def test_a_resolvers_forward_timeouts_blame_the_name_server_it_forwards_to_never_the_node_it_runs_on() -> None:
    from detectors.kubernetes.detector import name_servers_among

    line = "2026-03-04T10:00:{s:02d}Z [ERROR] plugin/errors: 2 api.example.com. A: read udp 10.244.0.3:{p}->10.0.0.2:53: i/o timeout"
    logs = {"coredns": [line.format(s=s, p=40000 + s) for s in range(0, 50, 5)]}
    on_node = context(service="checkout").model_copy(update={"logs": logs, "topology": {"coredns": ["node-3"]}})
    assert not [s for s in detect_kubernetes_signals(on_node) if s.kind == "dns_failure" and s.service == "node-3"]
    upstream = on_node.model_copy(update={"topology": {"coredns": ["node-3", "dc-resolver"]}})
    assert [s.service for s in detect_kubernetes_signals(upstream) if s.kind == "dns_failure"] == ["dc-resolver"]
    # a dependency known as a name server by its own lines (BIND), whatever its name
    bind = [f"Mar  4 10:00:{s:02d} gw1 named[812]: client @0x7f 10.0.0.9#5353 (x.example): query failed" for s in range(9)]
    assert name_servers_among(["node-3", "gw1", "ns2", "corp-dns"], {"gw1": bind}) == ["gw1", "ns2", "corp-dns"]
    assert name_servers_among(["node-3", "orders-db", "nsqd"], {}) == []


_NODES = ("$ kubectl get nodes\n"
          "NAME        STATUS     ROLES    AGE   VERSION\n"
          "wrk-1       Ready      <none>   19d   v1.30.4\n"
          "wrk-2       Ready      <none>   19d   v1.30.4\n"
          "wrk-3       NotReady   <none>   19d   v1.30.4\n")


def test_a_pod_told_node_is_not_ready_blames_the_one_notready_node_of_several() -> None:
    events = ("LAST SEEN   TYPE      REASON         OBJECT                    MESSAGE\n"
              "2m          Warning   NodeNotReady   pod/api-6c8d7f9b4-lm2xs   Node is not ready\n")
    signals = detect_kubernetes_signals(context(KubeText(name="n", text=_NODES), KubeText(name="ev", text=events)))
    assert ("api", "node_failure") not in {(s.service, s.kind) for s in signals}
    assert ("wrk-3", "node_failure") in {(s.service, s.kind) for s in signals}


def test_a_node_agent_refusing_its_own_configuration_explains_the_notready_state() -> None:
    journal = ("Dec 19 07:20:41 wrk-3 containerd[412877]: containerd: failed to load TOML from "
               "/etc/containerd/config.toml: invalid plugin key URI \"registry.mirrors\" expect io.containerd.x.vx\n")
    ctx = context(KubeText(name="nodes", text=_NODES))
    ctx.logs["nodes"] = journal.splitlines()
    signals = detect_kubernetes_signals(ctx)
    found = {(s.service, s.kind) for s in signals}
    assert ("wrk-3", "config_change") in found
    assert ("wrk-3", "node_failure") not in found  # the state the agent's own line explains
    # without that line the NotReady state is the finding
    bare = {(s.service, s.kind) for s in detect_kubernetes_signals(context(KubeText(name="nodes", text=_NODES)))}
    assert ("wrk-3", "node_failure") in bare


_PVC = ("$ kubectl -n streaming describe pvc data-kafka-6\n"
        "Name:          data-kafka-6\nNamespace:     streaming\nStatus:        Pending\n"
        "Events:\n  Type     Reason              Age                From{pad}Message\n"
        "  ----     ------              ----               ----{pad}-------\n"
        "  Warning  ProvisioningFailed  2m (x14 over 31m)  {source}  failed to provision volume with StorageClass "
        '"gp3": rpc error: code = Internal desc = Could not create volume "pvc-8e2d": could not create volume in EC2: '
        "operation error EC2: CreateVolume, https response error StatusCode: 403, api error UnauthorizedOperation: "
        "You are not authorized to perform this operation.\n")


def test_a_provisioner_refused_by_its_cloud_identity_blames_the_provisioner_that_reported_it() -> None:
    source = "ebs.csi.aws.com_ebs-csi-controller-6b9d8f7c5-x2kqm_0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
    text = _PVC.format(source=source, pad=" " * (len(source) - 2))
    signal = _by(detect_kubernetes_signals(context(KubeText(name="pvc", text=text))), "data-kafka",
                 "config_change")
    assert signal.attributes["rule"] == "volume.provisioner_refused"
    assert signal.attributes["culprit"] == "ebs-csi-controller"


def test_a_refused_provisioner_nobody_names_leaves_the_claims_own_reading() -> None:
    source = "persistentvolume-controller"
    text = _PVC.format(source=source, pad=" " * (len(source) - 2))
    signals = detect_kubernetes_signals(context(KubeText(name="pvc", text=text)))
    rules = {s.attributes.get("rule") for s in signals if s.source == "kubernetes"}
    assert "volume.provisioning" in rules and "volume.provisioner_refused" not in rules


_JOURNAL = ("$ ssh wrk-03 sudo journalctl -u kubelet | grep ownership\n"
            "Jan 26 04:00:31 wrk-03 kubelet[1187]: W0126 04:00:31.208744 1187 volume_linux.go:49] Setting volume "
            "ownership for /var/lib/kubelet/pods/a7d2c9e1-0f3b-4c6d-8e5a-1b9f7c2d4e60/volumes/kubernetes.io~csi/"
            "pvc-0e9b/mount and fsGroup set. If the volume has a lot of files then setting volume ownership could be "
            "slow, see https://github.com/kubernetes/kubernetes/issues/69699\n")
_PROM_PODS = ("$ kubectl -n monitoring get pods\nNAME               READY   STATUS              RESTARTS   AGE\n"
         "prometheus-k8s-0   0/2     ContainerCreating   0          37m\n{more}")
_UIDS = ("$ kubectl -n monitoring get pods -o custom-columns=NAME:.metadata.name,UID:.metadata.uid\n"
         "NAME               UID\nprometheus-k8s-0   a7d2c9e1-0f3b-4c6d-8e5a-1b9f7c2d4e60\n"
         "grafana-6c8d9f7b5-2kq4x   0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\n")


@pytest.mark.parametrize(("texts", "owner"), [
    ((_PROM_PODS.format(more=""),), "prometheus-k8s"),  # the bundle's one workload
    ((_PROM_PODS.format(more="grafana-6c8d9f7b5-2kq4x   1/1     Running   0          9d\n"), _UIDS), "prometheus-k8s"),
    ((_PROM_PODS.format(more="grafana-6c8d9f7b5-2kq4x   1/1     Running   0          9d\n"),), ""),  # several, no UID
    # one workload, but the UID listing gives its pod another UID: the volume is of a pod the evidence does not show
    ((_PROM_PODS.format(more=""), _UIDS.replace("a7d2c9e1-0f3b-4c6d-8e5a-1b9f7c2d4e60",
                                                "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9").split("grafana")[0]), ""),
])
def test_a_slow_volume_ownership_change_is_the_spec_of_the_pod_whose_volume_it_is(texts: tuple[str, ...],
                                                                                  owner: str) -> None:
    ctx = context(*(KubeText(name=f"t{i}", text=t) for i, t in enumerate(texts)))
    ctx.logs = {"wrk-03": _JOURNAL.splitlines()[1:]}  # the node's journal, as the bundle's logs hold it
    found = [s for s in detect_kubernetes_signals(ctx) if s.attributes.get("rule") == "volume.ownership_slow"]
    assert [(s.service, s.kind) for s in found] == ([(owner, "config_change")] if owner else [])


_PEER_POLICY = """$ kubectl -n billing describe networkpolicy allow-from-gateway
Name:         allow-from-gateway
Namespace:    billing
Created on:   2026-06-02 11:40:17 +0000 UTC
Labels:       <none>
Annotations:  <none>
Spec:
  PodSelector:     app=billing-api
  Allowing ingress traffic:
    To Port: 8080/TCP
    From:
      NamespaceSelector: kubernetes.io/metadata.name=edge
      PodSelector: app=api-gateway
  Not affecting egress traffic
  Policy Types: Ingress
"""
_GATEWAY_PODS = {
    "none": "$ kubectl -n edge get pods -l app=api-gateway\nNo resources found in edge namespace.\n",
    "some": ("$ kubectl -n edge get pods -l app=api-gateway\nNAME                          READY   STATUS    RESTARTS"
             "   AGE\napi-gateway-7b5c9d8f6-2lqxw   1/1     Running   0          19m\n"),
    "other": "$ kubectl -n edge get pods -l app=web\nNo resources found in edge namespace.\n",
}


@pytest.mark.parametrize(("pods", "blocked"), [("none", True), ("some", False), ("other", False)])
def test_an_old_policy_whose_admitted_peers_no_pod_matches_cuts_its_workload_off(pods: str, blocked: bool) -> None:
    # the policy is months old: the callers' labels changed, so it admits nobody now
    signals = detect_kubernetes_signals(context(KubeText(name="netpol", text=_PEER_POLICY),
                                                KubeText(name="pods", text=_GATEWAY_PODS[pods])))
    found = [s for s in signals if s.attributes.get("rule") == "netpol.peers_unmatched"]
    assert [(s.service, s.kind, s.attributes["decisive"]) for s in found] == (
        [("billing-api", "network_policy_block", True)] if blocked else [])


# the same policy and its peers as other listings show them
_PEER_LISTINGS = {
    # ``--show-labels``: the gateway's pods are there, relabelled (app.kubernetes.io/name), none carries app=api-gateway
    "relabelled": ("$ kubectl get pods -n edge --show-labels\nNAME                          READY   STATUS    "
                   "RESTARTS   AGE   LABELS\nedge-gateway-7b5c9d8f6-2lqxw  1/1     Running   0          19m   "
                   "app.kubernetes.io/name=edge-gateway,pod-template-hash=7b5c9d8f6\n"),
    "carried": ("$ kubectl get pods -n edge --show-labels\nNAME                          READY   STATUS    "
                "RESTARTS   AGE   LABELS\napi-gateway-7b5c9d8f6-2lqxw   1/1     Running   0          19m   "
                "app=api-gateway,pod-template-hash=7b5c9d8f6\n"),
    # a listing of another namespace says nothing of the peer's
    "elsewhere": ("$ kubectl get pods -n billing --show-labels\nNAME                          READY   STATUS    "
                  "RESTARTS   AGE   LABELS\nbilling-api-5d6f7c8b9-k2m4p   1/1     Running   0          3d    "
                  "app=billing-api\n"),
    # every namespace at once: the NAMESPACE column says which
    "all_namespaces": ("$ kubectl get pods -A --show-labels\nNAMESPACE   NAME                          READY   STATUS"
                       "    RESTARTS   AGE   LABELS\nedge        gw-v2-7b5c9d8f6-2lqxw         1/1     Running   0"
                       "          19m   app=gw-v2\nbilling     billing-api-5d6f7c8b9-k2m4p   1/1     Running   0"
                       "          3d    app=api-gateway\n"),
}


@pytest.mark.parametrize(("listing", "blocked"), [("relabelled", True), ("carried", False), ("elsewhere", False),
                                                  ("all_namespaces", True)])
def test_a_show_labels_listing_where_no_pod_carries_the_peers_labels_cuts_the_workload_off(
        listing: str, blocked: bool) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="netpol", text=_PEER_POLICY),
                                                KubeText(name="pods", text=_PEER_LISTINGS[listing])))
    found = [s for s in signals if s.attributes.get("rule") == "netpol.peers_unmatched"]
    assert [s.service for s in found] == (["billing-api"] if blocked else [])


_NS_PEER_POLICY = _PEER_POLICY.replace("kubernetes.io/metadata.name=edge", "team=edge")
_NAMESPACES = {
    "label_gone": ("$ kubectl get ns --show-labels\nNAME      STATUS   AGE    LABELS\nedge      Active   210d   "
                   "kubernetes.io/metadata.name=edge\nbilling   Active   300d   kubernetes.io/metadata.name=billing\n"),
    "label_kept": ("$ kubectl get namespaces --show-labels\nNAME      STATUS   AGE    LABELS\nedge      Active   210d   "
                   "kubernetes.io/metadata.name=edge,team=edge\n"),
}


@pytest.mark.parametrize(("listing", "blocked"), [("label_gone", True), ("label_kept", False)])
def test_a_namespace_listing_where_no_namespace_carries_the_peers_namespace_labels_cuts_the_workload_off(
        listing: str, blocked: bool) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="netpol", text=_NS_PEER_POLICY),
                                                KubeText(name="ns", text=_NAMESPACES[listing])))
    found = [s for s in signals if s.attributes.get("rule") == "netpol.peers_unmatched"]
    assert [s.service for s in found] == (["billing-api"] if blocked else [])


def test_a_policy_that_still_admits_an_address_block_admits_someone() -> None:
    policy = _PEER_POLICY.replace("  Not affecting egress traffic",
                                  "    From:\n      IPBlock:\n        CIDR: 10.40.0.0/16\n        Except: \n"
                                  "  Not affecting egress traffic")
    signals = detect_kubernetes_signals(context(KubeText(name="netpol", text=policy),
                                                KubeText(name="pods", text=_GATEWAY_PODS["none"])))
    assert [s for s in signals if s.attributes.get("rule") == "netpol.peers_unmatched"] == []


def test_an_api_objects_peers_are_read_like_the_describes() -> None:
    obj = ('$ kubectl -n billing get networkpolicy allow-from-gateway -o json\n{"apiVersion": "networking.k8s.io/v1", '
           '"kind": "NetworkPolicy", "metadata": {"name": "allow-from-gateway", "namespace": "billing", '
           '"creationTimestamp": "2026-01-10T08:00:00Z"}, "spec": {"podSelector": {"matchLabels": {"app": '
           '"billing-api"}}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"namespaceSelector": {"matchLabels": '
           '{"kubernetes.io/metadata.name": "edge"}}, "podSelector": {"matchLabels": {"app": "api-gateway"}}}]}]}}\n')
    signals = detect_kubernetes_signals(context(KubeText(name="netpol", text=obj),
                                                KubeText(name="pods", text=_GATEWAY_PODS["none"])))
    found = [s for s in signals if s.attributes.get("rule") == "netpol.peers_unmatched"]
    assert [s.service for s in found] == ["billing-api"]
