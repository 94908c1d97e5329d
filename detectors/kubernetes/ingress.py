"""Which workload an Ingress's TLS secret belongs to, read from the Ingresses the responder saved
(``kubectl describe ingress``, ``kubectl get ingress -o yaml``).

An Ingress controller that cannot find a TLS secret names only the secret (``local SSL certificate shop/x was not
found``); the thing to fix is the Ingress that names it, and that Ingress is named for the workload it serves: the
Service of its backends (docs/causes.md).
"""

from __future__ import annotations

import re

from bot.domain import KubeText
from detectors.kubernetes.parse import split_commands
from detectors.kubernetes.resolve import service_workload
from detectors.kubernetes.text import clean

# describe: "TLS:" then "  <secret> terminates <hosts>"; a rule's backends "   /   shop-web:80 (10.0.0.1:3000)"
_DESCRIBE_TLS = re.compile(r"^\s+(?P<secret>[\w.-]+) terminates\b", re.M)
_DESCRIBE_BACKEND = re.compile(r"^\s+\S*\s+(?P<service>[a-z0-9][\w.-]*):(?:\d+|[a-z][\w-]*) \(", re.M)
# YAML: "secretName: <secret>"; a backend "service:" followed by "name: <service>"
_YAML_SECRET = re.compile(r"^\s*secretName:\s*[\"']?(?P<secret>[\w.-]+)", re.M)
_YAML_BACKEND = re.compile(r"^\s*service:\s*\n\s*name:\s*[\"']?(?P<service>[\w.-]+)", re.M)
_YAML_SERVICE_NAME = re.compile(r"^\s*serviceName:\s*[\"']?(?P<service>[\w.-]+)", re.M)  # extensions/v1beta1


def ingress_backends(text: str) -> dict[str, list[str]]:
    """TLS secret name -> the backend Services of the Ingress (one saved output) that names it."""
    secrets = [m.group("secret") for m in (*_DESCRIBE_TLS.finditer(text), *_YAML_SECRET.finditer(text))]
    if not secrets:
        return {}
    services: list[str] = []
    for pattern in (_DESCRIBE_BACKEND, _YAML_BACKEND, _YAML_SERVICE_NAME):
        services.extend(
            m.group("service") for m in pattern.finditer(text) if m.group("service") not in services
        )
    return {secret: services for secret in secrets}


def secret_owners(kube_texts: list[KubeText], workloads: list[str]) -> dict[str, str]:
    """TLS secret name -> the workload its Ingress serves (the Ingress's one backend Service, as a workload)."""
    out: dict[str, str] = {}
    for item in kube_texts:
        for _command, segment in split_commands(clean(item.text)):
            for secret, services in ingress_backends(segment).items():
                if len(services) == 1 and secret not in out:
                    out[secret] = service_workload(services[0], workloads)
    return out


def owner_of(owners: dict[str, str], secret: str) -> str:
    """The workload for ``ns/secret`` (or a bare secret name), "" when no saved Ingress names it."""
    return owners.get(secret.rsplit("/", 1)[-1], "")
