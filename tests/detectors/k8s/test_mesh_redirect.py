"""An application init container cut off by a mesh's traffic redirect (docs/causes.md): the redirect's init
container completed, the proxy still waits for the init containers, and the app's init container fails."""

from __future__ import annotations

from bot.domain import KubeText
from detectors.kubernetes import detect_kubernetes_signals
from detectors.kubernetes.detector import MESH_PROXIES, MESH_REDIRECT_INITS

from .factories import context

POD = """$ kubectl -n orders describe pod order-router-7b8d9c6f5-k2vxp
Name:             order-router-7b8d9c6f5-k2vxp
Namespace:        orders
Status:           Pending
Init Containers:
  {redirect}:
    Image:          registry.example/proxy:1.24.2
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
    Ready:          True
  db-migrate:
    Image:          registry.example/order-router:4.11.2
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
    Ready:          False
    Restart Count:  6
Containers:
  order-router:
    Image:          registry.example/order-router:4.11.2
    State:          Waiting
      Reason:       PodInitializing
  {proxy}:
    Image:          registry.example/proxy:1.24.2
    State:          {proxy_state}
"""


def _kinds(text: str) -> set[str]:
    return {s.kind for s in detect_kubernetes_signals(context(KubeText(name="pod.txt", text=text)))
            if s.service == "order-router"}


def test_the_tables_hold_the_meshes_redirect_and_proxy_containers() -> None:
    assert {"istio-init", "linkerd-init"} <= MESH_REDIRECT_INITS
    assert {"istio-proxy", "linkerd-proxy"} <= MESH_PROXIES


def test_an_init_container_behind_a_redirect_whose_proxy_has_not_started_is_the_workloads_mesh_setting() -> None:
    for redirect, proxy in (("istio-init", "istio-proxy"), ("linkerd-init", "linkerd-proxy"),
                            # the meshes' CNI plugins redirect before the init containers and validate it in one
                            ("istio-validation", "istio-proxy"), ("linkerd-network-validator", "linkerd-proxy")):
        text = POD.format(redirect=redirect, proxy=proxy, proxy_state="Waiting\n      Reason:       PodInitializing")
        assert "config_change" in _kinds(text), redirect


def test_without_a_waiting_proxy_the_failing_init_container_is_read_as_before() -> None:
    # a proxy that runs (a native sidecar started before the app's init containers) reaches the network
    text = POD.format(redirect="istio-init", proxy="istio-proxy", proxy_state="Running")
    assert "config_change" not in _kinds(text)
