"""An ``ApiClient`` for the cluster named in settings: a kubeconfig file (and context) when given, else the
pod's in-cluster service account, else ``~/.kube/config``. One retry per request (urllib3 would otherwise try
a slow server four times); ``kubernetes.timeout_s`` bounds each try."""

from __future__ import annotations

from kubernetes import config
from kubernetes.client import ApiClient, Configuration

from bot.domain import ConnectorError
from connectors.kubernetes.settings import KubernetesSettings

RETRIES = 1


def api_client_from_settings(settings: KubernetesSettings) -> ApiClient:
    """Raises ``ConnectorError`` naming the setting to check when no credentials are found."""
    configuration = Configuration()
    try:
        if settings.kubeconfig:
            config.load_kube_config(config_file=settings.kubeconfig, context=settings.context,
                                    client_configuration=configuration)
        else:
            try:
                config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            except config.ConfigException:
                config.load_kube_config(context=settings.context, client_configuration=configuration)
    except (config.ConfigException, OSError, ValueError, TypeError) as e:
        raise ConnectorError(f"no Kubernetes cluster configured: {str(e)[:200]} (set kubernetes.kubeconfig, or run "
                             "Sherlog in the cluster with a service account)") from e
    configuration.retries = RETRIES  # type: ignore[assignment]
    return ApiClient(configuration)
