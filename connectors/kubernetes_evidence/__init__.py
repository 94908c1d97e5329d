"""Live Kubernetes evidence around an alert (read-only): see ``collector``; targets in ``targets``."""

from connectors.kubernetes_evidence.client import api_client_from_settings
from connectors.kubernetes_evidence.collector import KubeEvidence, KubernetesEvidenceCollector
from connectors.kubernetes_evidence.targets import KubeTarget, targets_of

__all__ = ["KubeEvidence", "KubeTarget", "KubernetesEvidenceCollector", "api_client_from_settings", "targets_of"]
