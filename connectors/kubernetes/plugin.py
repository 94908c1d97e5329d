"""The Kubernetes connector: pod logs and events (``logs.kubernetes_enabled``) and live evidence
(``kubernetes.enabled``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.errors import ConfigError
from connectors.kubernetes.logs import KubernetesLogSource
from connectors.kubernetes.settings import KubernetesSettings
from connectors.plugins import Connector, LogSource, LogSourceClients


def core_v1_api() -> Any:
    """A ``CoreV1Api`` from the in-cluster credentials, else ``~/.kube/config``."""
    from kubernetes import client, config

    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        try:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        except Exception as e:
            raise ConfigError(f"logs.kubernetes_enabled is true but no cluster credentials were found: {e}") from e
    return client.CoreV1Api()


def logs_configured(settings: Any) -> bool:
    return bool(settings.logs.kubernetes_enabled)


def log_source(settings: Any, clients: LogSourceClients) -> LogSource | None:
    cfg = settings.logs
    if not cfg.kubernetes_enabled and clients.kubernetes_api is None:
        return None
    return KubernetesLogSource(core_api=clients.kubernetes_api or core_v1_api(), namespace=cfg.kubernetes_namespace,
                               selector=cfg.kubernetes_selector)


def evidence_source(settings: Any) -> Callable[[], Any] | None:
    """A builder of the evidence collector when ``kubernetes.enabled``. The client is built on first use, so a
    cluster that cannot be reached is a note on the analysis, not a failed start."""
    if not settings.kubernetes.enabled:
        return None
    section: KubernetesSettings = settings.kubernetes

    def make() -> Any:
        from connectors.kubernetes.evidence import KubernetesEvidenceCollector, api_client_from_settings

        return KubernetesEvidenceCollector(api_client=api_client_from_settings(section), settings=section)

    return make


plugin = Connector(name="kubernetes", description="Kubernetes pod logs, events and live evidence",
                   settings_section="kubernetes", settings_model=KubernetesSettings, logs_configured=logs_configured,
                   log_source=log_source, evidence_source=evidence_source)
