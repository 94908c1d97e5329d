"""The ``kubernetes`` settings section (live evidence; the log source reads ``logs.kubernetes_*``)."""

from __future__ import annotations

from pydantic import Field

from connectors.plugins import SettingsSection


class KubernetesSettings(SettingsSection):
    """Live Kubernetes evidence around an alert (read-only: get/list of pods, pods/log, events, nodes and the
    pods' owners). Off by default; see docs/integrations.md, "Kubernetes evidence"."""

    enabled: bool = False
    kubeconfig: str | None = None  # a kubeconfig file; None: in-cluster credentials, else ~/.kube/config
    context: str | None = None  # a context of that kubeconfig (None: its current context)
    namespaces: list[str] = Field(default_factory=list)  # read only these; empty: any namespace an alert names
    default_namespace: str = "default"  # for an alert that names a pod or workload but no namespace
    max_targets: int = Field(default=3, ge=1, le=20)  # distinct pods/workloads/nodes read per incident
    max_pods: int = Field(default=3, ge=1, le=50)  # pods of one workload read
    log_lines: int = Field(default=200, ge=1, le=10_000)  # tail of each previous container's log
    max_log_bytes: int = Field(default=65_536, ge=1024, le=10_485_760)  # cap of each log read (limitBytes)
    max_events: int = Field(default=50, ge=1, le=1000)  # events listed per object
    max_replicasets: int = Field(default=10, ge=1, le=100)  # recent rollouts of a Deployment
    timeout_s: float = Field(default=10.0, gt=0, le=120)  # each API request
    budget_s: float = Field(default=30.0, gt=0, le=600)  # all requests of one incident
