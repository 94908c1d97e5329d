"""A native sidecar listed after the init container that needs it (docs/causes.md): init containers start in order,
so the init container is refused on the pod's loopback while the sidecar waits (``PodInitializing``); the pod's own
container order is the workload's config_change, not its code."""

from __future__ import annotations

import pytest

from bot.domain import KubeText
from detectors.kubernetes import detect_kubernetes_signals

from .factories import context

POD = """$ kubectl -n loyalty describe pod loyalty-api-84d7c6f9b-9wq5l
Name:             loyalty-api-84d7c6f9b-9wq5l
Namespace:        loyalty
Status:           Pending
Controlled By:    ReplicaSet/loyalty-api-84d7c6f9b
Init Containers:
  {first}:
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
    Restart Count:  6
  {second}:
    Restart Policy:  Always
    State:          Waiting
      Reason:       PodInitializing
    Restart Count:  0
Containers:
  api:
    State:          Waiting
      Reason:       PodInitializing
"""

REFUSED = {
    "go": "ERROR migrate: failed to connect to `host=127.0.0.1 user=loyalty`: dial error (dial tcp 127.0.0.1:5432: "
          "connect: connection refused)",
    "node": "Error: connect ECONNREFUSED 127.0.0.1:6379",
    "python": "HTTPConnectionPool(host='127.0.0.1', port=15001): Max retries exceeded with url: /v3 (Caused by "
              "NewConnectionError('...: Failed to establish a new connection: [Errno 111] Connection refused'))",
}


def _logs(line: str) -> str:
    return f"$ kubectl -n loyalty logs loyalty-api-84d7c6f9b-9wq5l -c db-migrate --previous\n{line}\n"


def _kinds(text: str) -> set[str]:
    signals = detect_kubernetes_signals(context(KubeText(name="pod.txt", text=text)))
    return {s.kind for s in signals if s.service == "loyalty-api" and s.source == "kubernetes"}


@pytest.mark.parametrize("runtime", sorted(REFUSED))
def test_an_init_container_refused_before_its_native_sidecar_starts_is_the_pods_order(runtime: str) -> None:
    text = POD.format(first="db-migrate", second="cloud-sql-proxy") + _logs(REFUSED[runtime])
    assert "config_change" in _kinds(text)


def test_a_sidecar_listed_first_is_not_the_order_at_fault() -> None:
    # the sidecar before the failing init container: it runs, so the refusal is not the order's
    text = POD.format(first="cloud-sql-proxy", second="db-migrate").replace(
        "Restart Policy:  Always", "Restart Count:  0") + _logs(REFUSED["go"])
    assert "config_change" not in _kinds(text)


def test_an_init_container_failing_for_another_reason_keeps_its_own_reading() -> None:
    text = POD.format(first="db-migrate", second="cloud-sql-proxy") + _logs(
        "ERROR migrate: migration 0047 failed: column \"points\" does not exist")
    assert "config_change" not in _kinds(text)
