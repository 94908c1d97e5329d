"""cert-manager Certificates that expired (named on the workload they are for) and workloads scaled to zero."""

from __future__ import annotations

import re

import pytest

from bot.domain import KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.certificates import STATUS_ROWS, certificate_signals, failed_certificates
from detectors.kubernetes.scaling import desired_zero

from .factories import context

DESCRIBE_CERT = """$ kubectl -n loyalty describe certificate loyalty-web-tls
Name:         loyalty-web-tls
Namespace:    loyalty
Labels:       team=growth
API Version:  cert-manager.io/v1
Kind:         Certificate
Spec:
  Dns Names:
    loyalty.example.com
  Secret Name:  loyalty-web-tls
Status:
  Conditions:
    Last Transition Time:  2026-11-14T06:02:11Z
    Message:               Certificate expired on Sat, 14 Nov 2026 06:02:11 UTC
    Reason:                Expired
    Status:                False
    Type:                  Ready
"""

EVENTS_ROW = """NAMESPACE   LAST SEEN   TYPE      REASON    OBJECT                          MESSAGE
tenants     4m          Warning   Expired   certificate/tenant-portal-tls   Certificate expired on Tue, 02 Sep 2026 00:17:45 UTC
"""

WIDE_ROW = """NAME       READY   SECRET          ISSUER        STATUS                                                 AGE
shop-api   False   shop-api-cert   letsencrypt   Certificate expired on Tue, 02 Sep 2026 00:17:45 UTC   540d
"""

YAML_CERT = """apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: edge
  labels:
    app.kubernetes.io/name: edge-gateway
spec:
  secretName: edge-tls
status:
  conditions:
  - message: Certificate expired on Mon, 01 Jun 2026 10:00:00 UTC
    reason: Expired
    status: "False"
    type: Ready
"""

HEALTHY = DESCRIBE_CERT.replace("Certificate expired on Sat, 14 Nov 2026 06:02:11 UTC",
                                "Certificate is up to date and has not expired").replace("Expired", "Ready")


def _no_ingress(_secret: str) -> str:
    return ""


@pytest.mark.parametrize(("pattern", "kind", "score"), STATUS_ROWS)
def test_each_status_row_reads_cert_managers_wording(pattern: str, kind: str, score: float) -> None:
    assert re.search(pattern, DESCRIBE_CERT)
    [signal] = certificate_signals([KubeText(name="c.txt", text=DESCRIBE_CERT)], {"loyalty-web"}, _no_ingress)
    assert (signal.kind, signal.score, signal.attributes["decisive"]) == (kind, score, True)


@pytest.mark.parametrize(("text", "known", "owner"), [
    (DESCRIBE_CERT, {"loyalty-web", "loyalty-pg"}, "loyalty-web"),  # the secret's name without "-tls"
    (EVENTS_ROW, {"tenant-portal"}, "tenant-portal"),  # an event row names the Certificate
    (WIDE_ROW, {"shop-api"}, "shop-api"),  # get -o wide: the STATUS column, the secret "-cert"
    (YAML_CERT, {"edge-gateway", "edge"}, "edge-gateway"),  # a label that is a known component
    (EVENTS_ROW, set(), "tenant-portal"),  # nothing known: the name the Certificate gives
])
def test_an_expired_certificate_is_named_on_the_workload_it_is_for(text: str, known: set[str], owner: str) -> None:
    [signal] = certificate_signals([KubeText(name="x.txt", text=text)], known, _no_ingress)
    assert (signal.service, signal.kind, signal.attributes["culprit"]) == (owner, "certificate_expired", owner)


def test_the_ingress_that_names_the_secret_decides_the_owner() -> None:
    [signal] = certificate_signals([KubeText(name="x.txt", text=DESCRIBE_CERT)], {"loyalty-web"},
                                   lambda secret: "loyalty-frontend" if secret == "loyalty-web-tls" else "")
    assert signal.service == "loyalty-frontend"


def test_a_healthy_certificate_says_nothing() -> None:
    assert failed_certificates([KubeText(name="x.txt", text=HEALTHY)]) == []


def test_the_detector_keeps_the_certificate_on_its_owner() -> None:
    ctx = context(KubeText(name="cert.txt", text=DESCRIBE_CERT))
    ctx.topology = {"loyalty-web": ["loyalty-pg"]}
    [signal] = [s for s in detect_kubernetes_signals(ctx) if s.kind == "certificate_expired"]
    # named by the Certificate: reasoning does not move it to the reporter's one dependency
    assert (signal.service, signal.attributes["culprit"]) == ("loyalty-web", "loyalty-web")


SCALED_TO_ZERO = """$ kubectl -n payments describe deployment fx-rates
Name:                   fx-rates
Namespace:              payments
Replicas:               0 desired | 0 updated | 0 total | 0 available | 0 unavailable
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  14m   deployment-controller  Scaled down replica set fx-rates-6c8d9b7f5 to 0 from 3
"""

ROLLOUT = """$ kubectl -n payments get events
LAST SEEN   TYPE     REASON              OBJECT                MESSAGE
20m         Normal   ScalingReplicaSet   deployment/ledger     Scaled up replica set ledger-7f9c8d6b5 to 3
19m         Normal   ScalingReplicaSet   deployment/ledger     Scaled down replica set ledger-5c6d7e8f9 to 0 from 3
"""

DOWN_ONLY = """$ kubectl -n notify get events
LAST SEEN   TYPE     REASON              OBJECT                    MESSAGE
22m         Normal   ScalingReplicaSet   deployment/notif-push     Scaled down replica set notif-push-7f9c8d6b5 to 0 from 4
"""

BACK_UP = DOWN_ONLY + (
    "12m         Normal   ScalingReplicaSet   deployment/notif-push     Scaled up replica set notif-push-7f9c8d6b5 to 4\n")

GET_DEPLOY = """$ kubectl -n notify get deploy
NAME            READY   UP-TO-DATE   AVAILABLE   AGE
email-sender    0/0     0            0           702d
notif-router    3/3     3            3           702d
"""


def _zero(text: str) -> list[str]:
    signals = detect_kubernetes_signals(context(KubeText(name="k.txt", text=text)))
    return sorted(s.service for s in signals if s.attributes.get("rule") == "scale.to_zero")


@pytest.mark.parametrize(("text", "workloads"), [
    (SCALED_TO_ZERO, ["fx-rates"]),  # describe: 0 desired, and its controller's event
    (DOWN_ONLY, ["notif-push"]),  # scaled down to 0 and nothing scaled up after it
    (ROLLOUT, []),  # a rollout finishing scales its old ReplicaSet to 0: no finding
    (BACK_UP, []),  # scaled back up afterwards
])
def test_a_workload_scaled_to_zero_is_a_change_of_it(text: str, workloads: list[str]) -> None:
    assert _zero(text) == workloads


def test_the_desired_count_reads_describe_and_get_deploy() -> None:
    texts = [KubeText(name="a.txt", text=SCALED_TO_ZERO), KubeText(name="b.txt", text=GET_DEPLOY)]
    assert sorted(desired_zero(texts)) == ["email-sender", "fx-rates"]


def test_a_scaled_to_zero_finding_is_a_decisive_config_change() -> None:
    [signal] = [s for s in detect_kubernetes_signals(context(KubeText(name="k.txt", text=SCALED_TO_ZERO)))
                if s.attributes.get("rule") == "scale.to_zero"]
    assert (signal.kind, signal.attributes["decisive"]) == ("config_change", True)
    assert "to 0 from 3" in signal.evidence[0].summary


def test_a_lone_scale_down_event_beside_pods_of_another_revision_is_a_rollout() -> None:
    # the list was cut after the new ReplicaSet's "Scaled up" line: its pods still show the rollout
    pods = """$ kubectl -n shop get pods
NAME                      READY   STATUS    RESTARTS   AGE
ledger-7f9c8d6b5-x2k4p    1/1     Running   0          19m
"""
    text = ROLLOUT.split("\n", 2)[0] + "\n" + "\n".join(ROLLOUT.split("\n")[1:2] + ROLLOUT.split("\n")[3:])
    assert "Scaled up" not in text
    signals = detect_kubernetes_signals(context(KubeText(name="e.txt", text=text), KubeText(name="p.txt", text=pods)))
    assert [s for s in signals if s.attributes.get("rule") == "scale.to_zero"] == []


def test_the_event_alone_weighs_less_than_a_desired_count_of_zero() -> None:
    [alone] = [s for s in detect_kubernetes_signals(context(KubeText(name="k.txt", text=DOWN_ONLY)))
               if s.attributes.get("rule") == "scale.to_zero"]
    [counted] = [s for s in detect_kubernetes_signals(context(KubeText(name="k.txt", text=SCALED_TO_ZERO)))
                 if s.attributes.get("rule") == "scale.to_zero"]
    assert alone.score < counted.score


def test_a_workload_at_zero_with_no_recent_scale_down_is_a_state_not_a_change() -> None:
    old = SCALED_TO_ZERO.replace("14m   deployment-controller", "9d    deployment-controller")
    assert _zero(old) == []
    assert _zero(GET_DEPLOY) == []  # 0/0 and no event at all: nothing says when, or that it was not meant


KEDA_HPA = """$ kubectl -n media describe hpa keda-hpa-thumbnail-worker
Name:                  keda-hpa-thumbnail-worker
Namespace:             media
Reference:             Deployment/thumbnail-worker
Min replicas:          1
Max replicas:          30
Events:
  Type     Reason                   Age                From                       Message
  ----     ------                   ----               ----                       -------
  Warning  FailedGetExternalMetric  2m (x40 over 30m)  horizontal-pod-autoscaler  unable to get external metric media/s0-redis-pending/&LabelSelector{}: unable to fetch metrics from external metrics API: error connecting to redis: WRONGPASS invalid username-password pair or user is disabled.
"""


def test_an_autoscaler_refused_its_trigger_source_is_the_scaled_workloads_setting() -> None:
    """KEDA names the HPA it makes ``keda-hpa-<ScaledObject>``: the finding lands on the workload it scales, as a
    change of its settings (the stale credential), not on the metrics API nor as traffic."""
    signals = detect_kubernetes_signals(context(KubeText(name="hpa.txt", text=KEDA_HPA)))
    assert {(s.service, s.kind) for s in signals} == {("thumbnail-worker", "config_change")}


KEDA_EVENTS = """$ kubectl -n media get events --sort-by=.lastTimestamp
LAST SEEN   TYPE      REASON                    OBJECT                                            MESSAGE
2m          Warning   FailedGetExternalMetric   horizontalpodautoscaler/keda-hpa-thumbnail-worker   unable to get external metric media/s0-redis-pending/&LabelSelector{}: unable to fetch metrics from external metrics API: error connecting to redis: WRONGPASS invalid username-password pair or user is disabled.
"""


def test_kedas_autoscaler_name_is_undone_to_the_scaled_workload() -> None:
    """No reference read (an events table): ``keda-hpa-<name>`` is KEDA's name for the autoscaler of ``<name>``."""
    signals = detect_kubernetes_signals(context(KubeText(name="events.txt", text=KEDA_EVENTS)))
    assert {(s.service, s.kind) for s in signals} == {("thumbnail-worker", "config_change")}
