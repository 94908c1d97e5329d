"""Read-only, namespaced Kubernetes reads for LLM tools: a pod, its events, a container's previous logs.

``KubernetesReader`` is the seam (a ``Protocol``); ``CoreV1Reader`` implements it over the official
client's ``CoreV1Api`` and answers in the API's own JSON shape (``sanitize_for_serialization``:
camelCase keys, RFC 3339 times). It only ever calls ``read_namespaced_pod``,
``list_namespaced_event`` and ``read_namespaced_pod_log``: nothing here can change a cluster.
Failures are ``ConnectorError`` with the API's status and reason (404: no such pod).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from bot.domain.errors import ConnectorError

log = logging.getLogger(__name__)

# object names are DNS subdomains (pods) or labels (containers): nothing to escape in a field selector
NAME = re.compile(r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?")


class KubernetesReader(Protocol):
    def pod(self, namespace: str, name: str) -> dict[str, Any]: ...

    def events(self, namespace: str, involved_name: str) -> list[dict[str, Any]]: ...

    def previous_logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str: ...


class CoreV1Reader:
    """``KubernetesReader`` over ``kubernetes.client.CoreV1Api`` (its ``api_client`` serialises)."""

    def __init__(self, core_api: Any) -> None:
        self.api = core_api

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return fn(*args, **kwargs)
        except ApiException as e:
            raise ConnectorError(f"Kubernetes {what}: {e.status} {e.reason}") from e
        except Exception as e:  # urllib3 transport errors
            raise ConnectorError(f"Kubernetes API is unreachable ({e.__class__.__name__}) for {what}") from e

    def _plain(self, obj: Any) -> Any:
        return self.api.api_client.sanitize_for_serialization(obj)

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        pod = self._call(f"pod {namespace}/{name}", self.api.read_namespaced_pod, name, namespace)
        return dict(self._plain(pod))

    def events(self, namespace: str, involved_name: str) -> list[dict[str, Any]]:
        if not NAME.fullmatch(involved_name):
            raise ConnectorError(f"{involved_name!r} is not a Kubernetes object name")
        found = self._call(f"events of {namespace}/{involved_name}", self.api.list_namespaced_event, namespace,
                           field_selector=f"involvedObject.name={involved_name}")
        return [dict(self._plain(e)) for e in (found.items or [])]

    def previous_logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        kwargs: dict[str, Any] = {"previous": True, "tail_lines": max(1, tail), "timestamps": True}
        if container:
            kwargs["container"] = container
        text = self._call(f"previous logs of {namespace}/{pod}", self.api.read_namespaced_pod_log, pod, namespace,
                          **kwargs)
        return str(text or "")


def core_v1_reader() -> CoreV1Reader:
    """A reader on the in-cluster service account, else the local kubeconfig."""
    from kubernetes import client, config

    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        try:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        except Exception as e:
            raise ConnectorError(f"no Kubernetes credentials were found: {e}") from e
    return CoreV1Reader(client.CoreV1Api())
