"""Live Kubernetes evidence around an alert (read-only): see ``collector``; targets in ``targets``."""

from connectors.kubernetes.evidence.client import api_client_from_settings
from connectors.kubernetes.evidence.collector import KubeEvidence, KubernetesEvidenceCollector
from connectors.kubernetes.evidence.targets import KubeTarget, targets_of

__all__ = ["KubeEvidence", "KubeTarget", "KubernetesEvidenceCollector", "api_client_from_settings", "targets_of"]
