import pytest

from bot.domain.workloads import workload_of_job, workload_of_pod, workload_of_replicaset


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("checkout-7c9d8f6b5-x2kbc", "checkout"),  # Deployment
        ("payment-api-5d8f7b9c4d-2kxvq", "payment-api"),  # Deployment, dashed name
        ("ledger-0", "ledger"),  # StatefulSet
        ("kafka-broker-12", "kafka-broker"),  # StatefulSet, ordinal 12
        ("backup-28475520-q7k2z", "backup"),  # CronJob -> Job -> Pod
        ("fluentd-8xk2p", "fluentd"),  # DaemonSet or bare Job
        ("redis", "redis"),  # a bare pod
        ("nginx-abc", "nginx-abc"),  # 'abc' has a vowel: not a generated suffix
        ("kube-scheduler-cp-1", "kube-scheduler"),  # kubeadm static pod <component>-<node>
        ("kube-controller-manager-ip-10-0-3-17", "kube-controller-manager"),
        ("kube-apiserver-master-a", "kube-apiserver"),
        ("kube-state-metrics-7c9d8f6b5-x2kbc", "kube-state-metrics"),  # not a control-plane component
        ("etcd-0", "etcd"),  # a StatefulSet's pod, as before
    ],
)
def test_workload_of_pod(pod: str, workload: str) -> None:
    assert workload_of_pod(pod) == workload


def test_workload_of_job_and_replicaset() -> None:
    assert workload_of_job("backup-28475520") == "backup"
    assert workload_of_job("db-migrate") == "db-migrate"
    assert workload_of_replicaset("checkout-7c9d8f6b5") == "checkout"
    assert workload_of_replicaset("checkout") == "checkout"


@pytest.mark.parametrize(
    ("name", "workload"),
    [
        ("uploads-7b6c5d4e3f-q8w2e", "uploads"),  # hex-like hash as hand-written pastes have them
        ("catalog-api-76d5c4b3a2-lp0o9", "catalog-api"),
        ("web-frontend", "web-frontend"),  # a word is not a hash
        ("api-gateway-canary", "api-gateway-canary"),
    ],
)
def test_hex_like_hashes_of_pastes(name: str, workload: str) -> None:
    assert workload_of_pod(name) == workload


def test_hex_like_replicaset() -> None:
    assert workload_of_replicaset("uploads-7b6c5d4e3f") == "uploads"
    assert workload_of_replicaset("stock-reservations-6a5b4c3d2e") == "stock-reservations"
