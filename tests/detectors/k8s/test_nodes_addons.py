"""Nodes, runtimes and cluster add-ons (casebook batch 15): a clock behind, expired Certificates by their end date,
and the component lines that explain effects elsewhere."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain import ChangeEvent, KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.certificates import certificate_signals, failed_certificates
from detectors.kubernetes.lines import match_line
from detectors.logs.decisive_rules import RULES as LOG_RULES

from .factories import ALERT_TIME, context

BEFORE = ("Mar 05 07:33:21 wrk-c-14 kubelet[1187]: E0305 07:33:21.660021 1187 reflector.go:147] Failed to watch "
          '*v1.Node: Get "https://10.60.0.10:6443/api/v1/nodes": tls: failed to verify certificate: x509: certificate '
          "has expired or is not yet valid: current time 2024-03-04T11:20:21Z is before 2024-03-04T11:56:52Z")
AFTER = ("E0402 00:14:10.901337 1 reflector.go:147] tls: failed to verify certificate: x509: certificate has expired "
         "or is not yet valid: current time 2024-03-04T12:00:00Z is after 2024-03-04T11:59:00Z")


def test_a_certificate_not_yet_valid_by_the_readers_clock_is_its_clock_not_an_expiry() -> None:
    rule = match_line(BEFORE)
    assert rule is not None and (rule.id, rule.kind) == ("host.clock_behind", "config_change")
    assert match_line(AFTER) is None or match_line(AFTER).id != "host.clock_behind"  # type: ignore[union-attr]
    tls_expired = next(r for r in LOG_RULES if r.id == "tls.expired")
    assert tls_expired.regex.search(BEFORE) is None
    assert tls_expired.regex.search(AFTER) is not None


NOT_READY = """$ kubectl get events -A
NAMESPACE   LAST SEEN   TYPE     REASON         OBJECT          MESSAGE
default     10m         Normal   NodeNotReady   node/wrk-c-14   Node wrk-c-14 status is now: NodeNotReady
"""


@pytest.mark.parametrize(("change_kind", "kind"), [("config", "config_change"), (None, "config_change")])
def test_a_kubelet_behind_the_clock_is_why_its_node_is_not_ready(change_kind: str | None, kind: str) -> None:
    ctx = context(KubeText(name="events.txt", text=NOT_READY))
    ctx.logs["kubelet"] = [BEFORE]
    if change_kind:
        ctx.events.append(ChangeEvent(ts=ALERT_TIME - timedelta(hours=10), kind=change_kind, service="wrk-c-14",
                                      text="golden image applied: chronyd masked"))
    signals = detect_kubernetes_signals(ctx)
    on_node = {(s.service, s.kind) for s in signals if s.service == "wrk-c-14"}
    assert ("wrk-c-14", kind) in on_node
    assert ("wrk-c-14", "node_failure") not in on_node  # the state, explained by the kubelet's own line


DESCRIBE = """$ kubectl -n web describe certificate status-tls
Name:         status-tls
API Version:  cert-manager.io/v1
Kind:         Certificate
Spec:
  Secret Name:  status-tls
Status:
  Conditions:
    Message:  The certificate request has failed to complete and will be retried: 429 urn:ietf:params:acme:error:rateLimited
    Reason:   Failed
    Status:   False
    Type:     Issuing
  Not After:  {end}
"""
JSONPATH = """$ kubectl -n shop get certificate merchant-api-tls -o jsonpath='{{.status.notAfter}}{{"\\n"}}'
{end}
"""


@pytest.mark.parametrize("template", [DESCRIBE, JSONPATH])
def test_a_certificate_whose_end_is_before_the_incident_has_expired(template: str) -> None:
    ended = KubeText(name="cert.txt", text=template.format(end="2024-03-04T11:40:00Z"))
    [signal] = certificate_signals([ended], {"status", "merchant-api"}, lambda _s: "", ALERT_TIME)
    assert signal.kind == "certificate_expired" and signal.service in {"status", "merchant-api"}
    running = KubeText(name="cert.txt", text=template.format(end="2024-05-04T11:40:00Z"))
    assert failed_certificates([running], ALERT_TIME) == []
    assert failed_certificates([ended]) == []  # without the incident's time nothing is read from the date
