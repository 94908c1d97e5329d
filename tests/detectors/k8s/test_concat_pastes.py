"""kubectl outputs pasted into one text without their ``$ kubectl`` lines (describe + events + logs in one ticket):
what each part is about must be read from the part itself."""

from __future__ import annotations

from bot.domain import KubeText
from detectors.kubernetes.parse import parse_kube_text

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
