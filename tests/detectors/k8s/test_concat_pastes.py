"""kubectl outputs pasted into one text without their ``$ kubectl`` lines (describe + events + logs in one ticket):
what each part is about must be read from the part itself."""

from __future__ import annotations

from bot.domain import KubeText
from detectors.kubernetes.parse import parse_kube_text
from detectors.kubernetes.shapes import split_shapes

# ``kubectl describe deploy cart-service | sed -n '/^Replicas/,/^Selector/p;/^Events/,$p'`` after a log, pasted
# without the command: the Events section has no Name: above it
DEPLOY_EVENTS = """2027-04-11 14:09:58.377  INFO 1 --- [main] c.a.cart.CartServiceApplication : Started in 208.1 seconds
Replicas:               10 desired | 10 updated | 10 total | 0 available | 10 unavailable
StrategyType:           Recreate
Events:
  Type    Reason             Age    From                   Message
  ----    ------             ----   ----                   -------
  Normal  ScalingReplicaSet  4m12s  deployment-controller  Scaled down replica set cart-service-5f7c9d8b6 to 0 from 10
  Normal  ScalingReplicaSet  3m41s  deployment-controller  Scaled up replica set cart-service-6b8d4c7f9 to 10
"""

# ``kubectl describe cronjob usage-rollup | sed -n '/Last Schedule/,$p'`` pasted without the command
CRONJOB_EVENTS = """Last Schedule Time:  Tue, 08 Dec 2026 12:00:00 +0000
Active Jobs:         <none>
Events:
  Type     Reason            Age   From                Message
  ----     ------            ----  ----                -------
  Normal   SuccessfulCreate  72m   cronjob-controller  Created job usage-rollup-29391120
  Normal   SawCompletedJob   69m   cronjob-controller  Saw completed job: usage-rollup-29391120, status: Complete
  Warning  MissSchedule      62m   cronjob-controller  Missed scheduled time to start a job: Tue, 08 Dec 2026 12:10:00 +0000
"""


def _objects(text: str) -> set[tuple[str, str, str]]:
    return {(e.reason, e.obj.kind, e.obj.name) for e in parse_kube_text(KubeText(name="ticket.txt", text=text)).events}


def test_a_deployment_controllers_events_pasted_without_a_name_are_the_deployment_its_replica_sets_name() -> None:
    assert _objects(DEPLOY_EVENTS) == {("ScalingReplicaSet", "Deployment", "cart-service")}


def test_a_cronjob_controllers_events_pasted_without_a_name_are_the_cronjob_its_jobs_name() -> None:
    assert _objects(CRONJOB_EVENTS) == {("SuccessfulCreate", "CronJob", "usage-rollup"),
                                        ("SawCompletedJob", "CronJob", "usage-rollup"),
                                        ("MissSchedule", "CronJob", "usage-rollup")}


def test_a_controllers_events_naming_two_objects_stay_unnamed() -> None:
    two = DEPLOY_EVENTS.replace("cart-service-6b8d4c7f9", "cart-worker-6b8d4c7f9")
    assert {(kind, name) for _, kind, name in _objects(two)} == {("", "")}


# ``kubectl get pods`` then ``kubectl describe deploy search-gateway | sed -n '/^Replicas/,$p'``, pasted without
# either command: the describe's fields begin without their Name: line
DEPLOY_FRAGMENT = """NAME                                  READY   STATUS    RESTARTS   AGE
search-gateway-59d7f6c4b8-4xkqp       1/1     Running   0          21d
search-gateway-6f8a9b7c5d-r7s2d       0/1     Pending   0          26m

Replicas:               3 desired | 1 updated | 4 total | 3 available | 1 unavailable
StrategyType:           RollingUpdate
Conditions:
  Type           Status  Reason
  ----           ------  ------
  Available      True    MinimumReplicasAvailable
  Progressing    False   ProgressDeadlineExceeded
OldReplicaSets:  search-gateway-59d7f6c4b8 (3/3 replicas created)
NewReplicaSet:   search-gateway-6f8a9b7c5d (1/1 replicas created)
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  26m   deployment-controller  Scaled up replica set search-gateway-6f8a9b7c5d to 1
2027-02-11T09:12:40Z WARN search-gateway upstream slow: 1204ms
"""


def test_a_deployment_describe_without_its_name_line_is_the_deployment_its_new_replica_set_names() -> None:
    found = parse_kube_text(KubeText(name="ticket.txt", text=DEPLOY_FRAGMENT))
    assert ("ProgressDeadlineExceeded", "Deployment", "search-gateway") in {
        (e.reason, e.obj.kind, e.obj.name) for e in found.events}
    assert not any("Conditions:" in line for log in found.logs for line in log.lines)  # not read as log text
    assert [line for log in found.logs for line in log.lines] == [DEPLOY_FRAGMENT.rstrip().rsplit("\n", 1)[1]]


def test_a_python_traceback_is_no_describe_fragment() -> None:
    text = ("Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n"
            "NewReplicaSet:  not-a-field\nValueError: boom\n")
    assert [shape for shape, _ in split_shapes(text)] == ["text"]


# ``kubectl get pod quote-engine-... -o yaml | yq '.status.containerStatuses[0]'`` then its log, pasted without
# the commands: a container status without the object around it
CONTAINER_STATUS = """containerID: containerd://9d2a4c1f7e0b
image: registry.example.io/apps/quote-engine:8.3.2
lastState:
  terminated:
    exitCode: 137
    finishedAt: "2026-12-08T16:01:48Z"
    reason: OOMKilled
    startedAt: "2026-12-08T15:52:10Z"
name: quote-engine
ready: false
restartCount: 4
state:
  waiting:
    message: back-off 1m20s restarting failed container=quote-engine pod=quote-engine-7c6d5b9f8-x4mzt_insurance(6a1f2e3d-4c5b)
    reason: CrashLoopBackOff

Picked up JAVA_TOOL_OPTIONS: -XX:+UseContainerSupport -XX:MaxRAMPercentage=70
2026-12-08 16:01:41,066 INFO  GcMonitor - G1 Young Generation: heap 1.74 GiB -> 1.71 GiB after GC (max 10.9 GiB)
"""


def test_a_container_status_pasted_alone_is_the_pod_its_back_off_message_names() -> None:
    assert [shape for shape, _ in split_shapes(CONTAINER_STATUS)] == ["yaml", "text"]
    found = parse_kube_text(KubeText(name="ticket.txt", text=CONTAINER_STATUS))
    [pod] = found.pods
    assert (pod.name, pod.namespace) == ("quote-engine-7c6d5b9f8-x4mzt", "insurance")
    assert pod.containers[0].last is not None and pod.containers[0].last.reason == "OOMKilled"
    assert len([line for log in found.logs for line in log.lines if line.strip()]) == 2
