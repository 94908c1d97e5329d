"""Readings added for evidence printed the way clusters print it (issue #16): several tables in one ``kubectl get``,
global flags before ``logs``, registry mirrors, autoscalers without requests, CronJob pile-ups, restarts the
kubelet made (liveness kills during start-up, probe timeouts under CPU throttling), namespace-wide policies."""

from __future__ import annotations

from bot.domain import Alert, Incident, IncidentContext, KubeText, Signal
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.parse import parse_kube_text
from detectors.kubernetes.resolve import registry_host
from detectors.kubernetes.restarts import stopped_while_starting, throttled_pods

from .factories import ALERT_TIME


def _context(*texts: str, alerts: list[Alert] | None = None) -> IncidentContext:
    alerts = alerts or [Alert(name="KubePodCrashLooping", starts_at=ALERT_TIME)]
    return IncidentContext(incident=Incident(alerts=alerts, started_at=ALERT_TIME),
                           kubernetes=[KubeText(name=f"out-{i}.txt", text=t) for i, t in enumerate(texts)])


def _kinds(signals: list[Signal], service: str) -> dict[str, str]:
    return {str(s.attributes.get("rule")): s.kind for s in signals if s.service == service}


MIRROR = ('Failed to pull image "docker.io/bitnami/redis:7.2.5": failed to pull and unpack image '
          '"docker.io/bitnami/redis:7.2.5": failed to resolve reference "docker.io/bitnami/redis:7.2.5": failed to do '
          'request: Head "https://registry-mirror.infra.corp:5000/v2/bitnami/redis/manifests/7.2.5?ns=docker.io": '
          "dial tcp 10.60.0.25:5000: connect: connection refused")


def test_a_pull_through_a_mirror_names_the_mirror_that_failed() -> None:
    assert registry_host(MIRROR) == "registry-mirror.infra.corp"
    hub = 'Head "https://registry-1.docker.io/v2/library/nginx/manifests/1.27": dial tcp 1.2.3.4:443: i/o timeout'
    assert registry_host(f'Failed to pull image "nginx:1.27": {hub}') == "docker.io"
    assert registry_host('Back-off pulling image "ghcr.io/acme/web:2.3.1"') == "ghcr.io"


def test_catch_all_pull_findings_name_the_host_their_specific_finding_names() -> None:
    text = f"""$ kubectl -n shop get events
LAST SEEN   TYPE      REASON    OBJECT              MESSAGE
11m         Warning   Failed    pod/cache-2         {MIRROR}
2m          Normal    BackOff   pod/cache-2         Back-off pulling image "docker.io/bitnami/redis:7.2.5"
"""
    signals = [s for s in detect_kubernetes_signals(_context(text)) if s.kind == "dependency_failure"]
    assert signals and {s.attributes.get("culprit") for s in signals} == {"registry-mirror.infra.corp"}


def test_each_table_of_a_multi_resource_get_is_read_by_its_own_header() -> None:
    text = """$ kubectl -n shop get pods,endpoints
NAME                              READY   STATUS             RESTARTS   AGE
pod/storefront-7c8d9e0f1a-2b3c4   1/1     Running            0          2d
pod/cart-redis-0                  0/1     CrashLoopBackOff   4          40d

NAME                   ENDPOINTS              AGE
endpoints/storefront   10.244.2.61:8080       402d
"""
    found = parse_kube_text(KubeText(name="get.txt", text=text))
    assert [p.name for p in found.pods] == ["storefront-7c8d9e0f1a-2b3c4", "cart-redis-0"]
    assert found.pods[1].containers[0].current is not None
    assert found.pods[1].containers[0].current.reason == "CrashLoopBackOff"


def test_a_logs_command_with_flags_before_its_verb_names_the_pod() -> None:
    text = "$ kubectl -n fraud logs risk-engine-7e6f5a4b3c-u7v8w --previous\nstarting\n"
    log = parse_kube_text(KubeText(name="x.txt", text=text)).logs[0]
    assert (log.pod, log.previous) == ("risk-engine-7e6f5a4b3c-u7v8w", True)
    text = "$ kubectl -n platform logs deploy/cert-operator --since=40m\nE0811 reconcile failed\n"
    assert parse_kube_text(KubeText(name="y.txt", text=text)).logs[0].pod == "cert-operator"


HPA = """$ kubectl -n search describe hpa web-hpa
Name:                                                  web-hpa
Namespace:                                             search
Reference:                                             Deployment/search-frontend
Min replicas:                                          3
Max replicas:                                          24
Events:
  Type     Reason                   Age                  From                       Message
  ----     ------                   ----                 ----                       -------
  Warning  FailedGetResourceMetric  2m (x171 over 43m)   horizontal-pod-autoscaler  failed to get cpu utilization: missing request for cpu in container web of Pod search-frontend-9f8e7d6c5b-a1b2c
"""


def test_an_autoscaler_without_requests_to_divide_by_is_the_targets_configuration() -> None:
    signals = detect_kubernetes_signals(_context(HPA))
    assert _kinds(signals, "search-frontend") == {"hpa.missing_request": "config_change"}


def test_a_cronjob_whose_runs_pile_up_is_its_configuration() -> None:
    table = """$ kubectl -n finance get cronjob
NAME               SCHEDULE       TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE
ledger-reconcile   */10 * * * *   <none>     False     11       3m              402d
nightly-export     0 2 * * *      <none>     False     1        10h             90d
"""
    signals = detect_kubernetes_signals(_context(table))
    piled = [s for s in signals if s.attributes.get("rule") == "cronjob.pile_up"]
    assert [(s.service, s.kind) for s in piled] == [("ledger-reconcile", "config_change")]
    assert piled[0].attributes["explains"] == ["db_connection_exhaustion", "resource_quota"]
    # a row whose cells were shifted off their header (a name edited in the paste): the gaps still part the cells
    shifted = table.replace("ledger-reconcile   */10", "ledger   */10")
    piled = [s for s in detect_kubernetes_signals(_context(shifted)) if s.attributes.get("rule") == "cronjob.pile_up"]
    assert [(s.service, s.kind) for s in piled] == [("ledger", "config_change")]
    describe = """Name:                          usage-export
Namespace:                     billing
Schedule:                      */5 * * * *
Concurrency Policy:            {policy}
Active Jobs:                   {jobs}
Events:                        <none>
"""
    jobs = "usage-export-1, usage-export-2, usage-export-3, usage-export-4"
    found = detect_kubernetes_signals(_context(describe.format(policy="Allow", jobs=jobs)))
    assert _kinds(found, "usage-export") == {"cronjob.pile_up": "config_change"}
    for policy, active in (("Allow", "usage-export-1, usage-export-2"), ("Replace", jobs)):
        assert not detect_kubernetes_signals(_context(describe.format(policy=policy, jobs=active)))


def test_a_log_told_to_stop_before_it_said_it_started() -> None:
    starting = ["INFO risk-engine 7.3.0 starting", "INFO warming rule cache: 2,140,331 rules",
                "INFO received SIGTERM, shutting down"]
    assert stopped_while_starting(starting)
    assert not stopped_while_starting(starting[:1] + ["INFO Started RiskEngine in 41.2 seconds"] + starting[2:])
    assert not stopped_while_starting(starting[:1] + ["ERROR APPLICATION FAILED TO START"] + starting[2:])
    assert not stopped_while_starting(["INFO received SIGTERM"])  # nothing said it was starting
    gunicorn = ["[INFO] Starting gunicorn 21.2.0", "[INFO] Listening at: http://0.0.0.0:8000 (1)",
                "[INFO] Booting worker with pid: 7", "[INFO] Handling signal: term", "[INFO] Shutting down: Master"]
    assert not stopped_while_starting(gunicorn)  # it had started: a later kill is not a start-up kill


POD = """$ kubectl -n fraud describe pod risk-engine-7e6f5a4b3c-u7v8w
Name:             risk-engine-7e6f5a4b3c-u7v8w
Namespace:        fraud
Node:             node-1/10.0.0.1
Controlled By:    ReplicaSet/risk-engine-7e6f5a4b3c
Containers:
  risk-engine:
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
    Ready:          False
    Restart Count:  6
QoS Class:        Burstable
Events:
  Type     Reason     Age                From     Message
  ----     ------     ----               ----     -------
  Warning  Unhealthy  2m (x21 over 17m)  kubelet  Liveness probe failed: Get "http://10.0.0.9:8080/healthz": {probe}
  Normal   Killing    2m (x7 over 17m)   kubelet  Container risk-engine failed liveness probe, will be restarted
  Warning  BackOff    1m (x30 over 17m)  kubelet  Back-off restarting failed container risk-engine in pod risk-engine-7e6f5a4b3c-u7v8w_fraud(1)
"""
TIMEOUT = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
PREVIOUS = """$ kubectl -n fraud logs risk-engine-7e6f5a4b3c-u7v8w --previous
10:14:02 INFO risk-engine 7.3.0 starting
10:14:31 INFO loading rules snapshot
10:15:12 INFO received SIGTERM, shutting down
"""


def test_restarts_the_kubelet_made_for_liveness_are_not_crashes() -> None:
    signals = detect_kubernetes_signals(_context(POD.format(probe=TIMEOUT)))
    kinds = _kinds(signals, "risk-engine")
    assert kinds["probe.liveness.timeout"] == "thread_pool_exhaustion"
    assert not any(rule.startswith(("crash.", "exit.")) for rule in kinds), kinds


def test_a_container_killed_while_still_starting_is_the_probes_configuration() -> None:
    signals = detect_kubernetes_signals(_context(POD.format(probe=TIMEOUT), PREVIOUS))
    assert set(_kinds(signals, "risk-engine").values()) == {"config_change"}


def test_a_log_pasted_without_its_command_is_the_one_workloads_when_it_shows_the_stop_during_start() -> None:
    # the describe, then the log, pasted into one text without the ``kubectl logs`` line that named the pod
    bare = PREVIOUS.split("\n", 1)[1]
    signals = detect_kubernetes_signals(_context(POD.format(probe=TIMEOUT) + "\n" + bare))
    assert set(_kinds(signals, "risk-engine").values()) == {"config_change"}


def test_a_describe_events_section_pasted_alone_is_the_pod_its_scheduler_event_names() -> None:
    alone = ("Events:\n  Type     Reason     Age   From               Message\n"
             "  ----     ------     ----  ----               -------\n"
             "  Normal   Scheduled  21m   default-scheduler  Successfully assigned billing/invoice-web-84d7f9c6b1-vw2xq "
             "to node-pool-1-c2\n"
             "  Warning  Unhealthy  1m    kubelet            Readiness probe failed: HTTP probe failed with statuscode: 404\n")
    events = parse_kube_text(KubeText(name="paste.txt", text=alone)).events
    assert {(e.obj.kind, e.obj.name, e.obj.namespace) for e in events} == {
        ("Pod", "invoice-web-84d7f9c6b1-vw2xq", "billing")}
    two = alone.replace("Normal   Scheduled  21m   default-scheduler  Successfully assigned billing/invoice-web-84d7f9c6b1-vw2xq "
                        "to node-pool-1-c2\n", "Normal   Scheduled  21m   default-scheduler  Successfully assigned billing/a-1 to n1\n"
                        "  Normal   Scheduled  21m   default-scheduler  Successfully assigned billing/b-1 to n2\n")
    assert {e.obj.name for e in parse_kube_text(KubeText(name="paste.txt", text=two)).events} == {""}


def test_probe_timeouts_of_a_throttled_container_are_the_throttling() -> None:
    stat = """$ kubectl -n fraud exec risk-engine-7e6f5a4b3c-u7v8w -- cat /sys/fs/cgroup/cpu.stat
usage_usec 341200918
nr_periods 66120
nr_throttled 61877
throttled_usec 298811022
"""
    ctx = _context(POD.format(probe=TIMEOUT), stat)
    assert "risk-engine-7e6f5a4b3c-u7v8w" in throttled_pods(ctx)
    assert _kinds(detect_kubernetes_signals(ctx), "risk-engine")["probe.liveness.timeout.throttled"] == "cpu_throttling"
    calm = stat.replace("nr_throttled 61877", "nr_throttled 120")
    assert throttled_pods(_context(POD.format(probe=TIMEOUT), calm)) == {}
    alert = Alert(name="CPUThrottlingHigh", starts_at=ALERT_TIME, description="93% throttling",
                  labels={"alertname": "CPUThrottlingHigh", "pod": "risk-engine-7e6f5a4b3c-u7v8w"})
    by_alert = detect_kubernetes_signals(_context(POD.format(probe=TIMEOUT), alerts=[alert]))
    assert _kinds(by_alert, "risk-engine")["probe.liveness.timeout.throttled"] == "cpu_throttling"

    # the probe's reading already says throttling: no second signal for the same workload
    assert sum(s.kind == "cpu_throttling" for s in detect_kubernetes_signals(ctx) if s.service == "risk-engine") == 1


def test_a_container_throttled_at_its_limit_is_the_throttling_without_any_probe_failing() -> None:
    # a latency alert, no event, no probe: only the cgroup's counters the responder printed
    stat = """$ kubectl -n media exec image-resizer-74f6c9d8b-5hq2n -- cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.stat
25000 100000
usage_usec 412881904
nr_periods 16520
nr_throttled 15876
throttled_usec 2417702311
"""
    signals = detect_kubernetes_signals(_context(stat))
    assert _kinds(signals, "image-resizer") == {"cpu.throttled": "cpu_throttling"}
    assert detect_kubernetes_signals(_context(stat.replace("nr_throttled 15876", "nr_throttled 40"))) == []


POLICY = """$ kubectl -n shop get netpol default-deny-ingress -o yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  creationTimestamp: "2024-03-04T11:50:00Z"
  name: default-deny-ingress
  namespace: shop
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""
PODS = """$ kubectl -n shop get pods
NAME                          READY   STATUS    RESTARTS   AGE
storefront-7c8d9e0f1a-2b3c4   1/1     Running   0          2d
cart-redis-0                  1/1     Running   0          40d
"""


def test_a_namespace_wide_policy_is_decisive_for_the_workload_the_alert_names() -> None:
    alert = Alert(name="IngressHigh5xxRate", starts_at=ALERT_TIME, description="Ingress shop/storefront 96% 5xx",
                  labels={"alertname": "IngressHigh5xxRate", "ingress": "storefront", "namespace": "shop"})
    signals = detect_kubernetes_signals(_context(POLICY, PODS, alerts=[alert]))
    decisive = {s.service: s.attributes["decisive"] for s in signals if s.kind == "network_policy_block"}
    assert decisive == {"storefront": True, "cart-redis": False}
    unnamed = detect_kubernetes_signals(_context(POLICY, PODS))  # nothing names one: all of them stay decisive
    assert {s.service for s in unnamed if s.attributes.get("decisive")} == {"storefront", "cart-redis"}


def test_a_cronjob_object_with_many_active_jobs_piles_up_unless_its_policy_forbids_it() -> None:
    cronjob = """$ kubectl -n billing get cronjob usage-export -o yaml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: usage-export
  namespace: billing
spec:
  schedule: "*/5 * * * *"
{policy}status:
  active:
  - {{kind: Job, name: usage-export-1, namespace: billing}}
  - {{kind: Job, name: usage-export-2, namespace: billing}}
  - {{kind: Job, name: usage-export-3, namespace: billing}}
"""
    signals = detect_kubernetes_signals(_context(cronjob.format(policy="")))  # Allow is the default
    assert _kinds(signals, "usage-export") == {"cronjob.pile_up": "config_change"}
    assert not detect_kubernetes_signals(_context(cronjob.format(policy="  concurrencyPolicy: Forbid\n")))


def test_kubectl_top_at_the_described_cpu_limit_is_throttling() -> None:
    described = POD.format(probe=TIMEOUT).replace("    Restart Count:  6\n",
                                                  "    Restart Count:  6\n    Limits:\n      cpu:     500m\n")
    top = """$ kubectl -n fraud top pods
NAME                           CPU(cores)   MEMORY(bytes)
risk-engine-7e6f5a4b3c-u7v8w   {usage}         388Mi
"""
    busy = detect_kubernetes_signals(_context(described, top.format(usage="499m")))
    assert _kinds(busy, "risk-engine")["probe.liveness.timeout.throttled"] == "cpu_throttling"
    idle = detect_kubernetes_signals(_context(described, top.format(usage="210m")))
    assert _kinds(idle, "risk-engine")["probe.liveness.timeout"] == "thread_pool_exhaustion"


def test_a_webhook_service_named_with_a_charts_suffix_is_its_workload() -> None:
    events = """$ kubectl -n payments get events
LAST SEEN   TYPE      REASON         OBJECT                          MESSAGE
2m          Warning   FailedCreate   replicaset/payout-api-7d6c5b4a39   Error creating: Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": context deadline exceeded
"""
    pods = """$ kubectl -n kyverno get pods
NAME                       READY   STATUS    RESTARTS   AGE
kyverno-6f5e4d3c2b-7a8b9   0/1     Running   0          41m
"""
    shown = detect_kubernetes_signals(_context(events, pods))
    assert {s.attributes.get("culprit") for s in shown if s.kind == "dependency_failure"} == {"kyverno"}
    alone = detect_kubernetes_signals(_context(events))  # no workload of that stem in the evidence: the Service
    assert {s.attributes.get("culprit") for s in alone if s.kind == "dependency_failure"} == {"kyverno-svc"}
