"""A StatefulSet whose pods cannot find their peers after a change of its governing headless Service (docs/causes.md):
its pods' names under a Service the evidence shows missing or selecting nothing do not resolve; the StatefulSet's
config_change, not the cluster DNS."""

from __future__ import annotations

import pytest

from bot.domain import KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.peers import missing_services, peer_signals

from .factories import context

GONE = '$ kubectl -n search get svc orders-es-headless\nError from server (NotFound): services "orders-es-headless" not found\n'
EMPTY = """$ kubectl -n chat get endpointslices -l kubernetes.io/service-name=chat-rabbitmq-nodes
NAME                        ADDRESSTYPE   PORTS     ENDPOINTS   AGE
chat-rabbitmq-nodes-6wq2h   IPv4          <unset>   <unset>     2y41d
"""
FILLED = EMPTY.replace("<unset>   <unset>", "4369      10.4.1.7,10.4.2.9")


def test_the_services_the_evidence_shows_missing_or_empty() -> None:
    assert missing_services([GONE, EMPTY, FILLED]) == {"orders-es-headless", "chat-rabbitmq-nodes"}
    assert missing_services([FILLED]) == set()


@pytest.mark.parametrize(("evidence", "line", "workload"), [
    (GONE, '{"log.level": "WARN", "message":"failed to resolve host [orders-es-0.orders-es-headless]", '
           '"error.type":"java.net.UnknownHostException"}', "orders-es"),
    (EMPTY, "[warning] <0.229.0> Could not auto-cluster with node "
            "rabbit@chat-rabbitmq-0.chat-rabbitmq-nodes.chat.svc.cluster.local: {error,nxdomain}", "chat-rabbitmq"),
    (GONE, "dial tcp: lookup orders-es-1.orders-es-headless.search.svc.cluster.local on 10.96.0.10:53: no such host",
     "orders-es"),
])
def test_peers_whose_names_fail_on_a_missing_governing_service_are_the_statefulsets(evidence: str, line: str,
                                                                                    workload: str) -> None:
    signals = detect_kubernetes_signals(context(KubeText(name="k.txt", text=evidence + "\n$ kubectl logs x\n" + line)))
    found = [s for s in signals if s.detector == "k8s.peers"]
    assert [(s.service, s.kind) for s in found] == [(workload, "config_change")]


@pytest.mark.parametrize("texts", [
    # the Service is there and selects its pods: a lookup that fails is the DNS's, not the StatefulSet's setup
    [FILLED, "Could not auto-cluster with node rabbit@chat-rabbitmq-0.chat-rabbitmq-nodes.chat.svc: {error,nxdomain}"],
    # a missing Service, but the failing name is no pod of a StatefulSet under it
    [GONE, "failed to resolve host [search.example.com]"],
    # the pod's name under the missing Service, in a line that is not a failed lookup
    [GONE, "joined orders-es-0.orders-es-headless as master"],
])
def test_no_finding_without_a_failed_peer_name_under_a_missing_service(texts: list[str]) -> None:
    assert peer_signals(texts) == []
