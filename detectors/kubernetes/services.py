"""A Service that sends to a port its pods do not listen on (kubernetes.io "Debug Services": is the Service's
``targetPort`` the port the pod serves on?).

``kubectl describe svc`` gives the ``TargetPort`` and the endpoints (``10.1.4.17:8000,...``); the pods' own log
says where they listen (``Listening at: http://0.0.0.0:8080``). Endpoints listed at one port while the workload
listens on another, and never on that one, is the Service's or the pods' spec, changed: ``config_change`` on the
workload (docs/causes.md). A named target port (``http/TCP``) is resolved by the pods themselves: not read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain import Evidence, EvidenceType, KubeText, Signal, SignalSource, stable_hash
from detectors.kubernetes.parse import command_verb, split_commands
from detectors.kubernetes.text import clean

SCORE = 0.8

# How servers say where they listen (the port is the group ``port``): gunicorn, uvicorn, Go/Node/Java frameworks.
LISTEN_PATTERNS: tuple[str, ...] = (
    r"Listening at: https?://[\w.\[\]:-]*?:(?P<port>\d{2,5})\b",  # gunicorn
    r"Uvicorn running on https?://[\w.\[\]:-]*?:(?P<port>\d{2,5})\b",
    r"\blistening on (?:port |(?:https?://)?[\w.\[\]-]*:)(?P<port>\d{2,5})\b",  # "listening on port 9000", ":8080"
    r"\b(?:started|running|serving) (?:on|at) (?:port |(?:https?://)?[\w.\[\]-]*:)(?P<port>\d{2,5})\b",
    r"Tomcat started on port\(?s?\)?:? (?P<port>\d{2,5})\b",
    r"Netty started on port (?P<port>\d{2,5})\b",
)
_LISTEN = tuple(re.compile(p, re.I) for p in LISTEN_PATTERNS)
_FIELD = re.compile(r"^(?P<key>Name|Selector|TargetPort|Endpoints):\s+(?P<value>.*?)\s*$", re.M)
_ENDPOINT_PORT = re.compile(r":(?P<port>\d+)\b")


@dataclass(frozen=True)
class ServicePorts:
    name: str
    selector: tuple[str, ...]  # the selector's label values (``app=quote-service`` -> ``quote-service``)
    target_ports: frozenset[int]
    endpoint_ports: frozenset[int]


def parse_service_describe(text: str) -> ServicePorts | None:
    """A ``kubectl describe svc`` with a numeric target port and endpoints listed, else None."""
    fields: dict[str, str] = {}
    targets: list[str] = []
    for match in _FIELD.finditer(text):
        fields.setdefault(match.group("key"), match.group("value"))
        if match.group("key") == "TargetPort":
            targets.append(match.group("value").split("/", 1)[0])
    endpoints = fields.get("Endpoints", "")
    if not fields.get("Name") or not targets or not all(t.isdigit() for t in targets):
        return None
    if not endpoints or endpoints.startswith("<"):
        return None
    selector = tuple(part.split("=", 1)[1] for part in fields.get("Selector", "").split(",") if "=" in part)
    ports = frozenset(int(m.group("port")) for m in _ENDPOINT_PORT.finditer(endpoints))
    return ServicePorts(fields["Name"], selector, frozenset(int(t) for t in targets), ports)


def listen_ports(lines: list[str]) -> set[int]:
    """The ports a workload's log says it listens on."""
    out: set[int] = set()
    for line in lines:
        for pattern in _LISTEN:
            match = pattern.search(line)
            if match:
                out.add(int(match.group("port")))
                break
    return out


def described_services(kube_texts: list[KubeText]) -> list[ServicePorts]:
    out: list[ServicePorts] = []
    for item in kube_texts:
        for command, segment in split_commands(clean(item.text)):
            if command and command_verb(command) != "describe":
                continue
            found = parse_service_describe(segment)
            if found is not None and found not in out:
                out.append(found)
    return out


def target_port_signals(kube_texts: list[KubeText], logs: dict[str, list[str]]) -> list[Signal]:
    """One decisive ``config_change`` per Service whose endpoints' port is one its workload's log never listens
    on while it listens on another."""
    signals: list[Signal] = []
    for svc in described_services(kube_texts):
        workload = next((w for w in (svc.name, *svc.selector) if listen_ports(logs.get(w, []))), "")
        if not workload:
            continue
        listening = listen_ports(logs[workload])
        if listening & (svc.endpoint_ports | svc.target_ports):
            continue
        ports = ", ".join(str(p) for p in sorted(svc.target_ports))
        said = f"Service {svc.name} sends to port {ports}; {workload} listens on " + ", ".join(
            str(p) for p in sorted(listening)
        )
        evidence = [
            Evidence(
                id=f"k8s:{stable_hash('service.target_port', svc.name, workload)}",
                type=EvidenceType.KUBERNETES,
                summary=said,
                service=workload,
                detail="rule service.target_port; from kubectl describe svc and the pods' log",
            )
        ]
        signals.append(
            Signal(
                source=SignalSource.KUBERNETES,
                detector="k8s.service_port",
                service=workload,
                kind="config_change",
                title=said,
                score=SCORE,
                evidence=evidence,
                attributes={
                    "decisive": True,
                    "rule": "service.target_port",
                    "object": f"service/{svc.name}",
                    "target_ports": sorted(svc.target_ports),
                    "listening": sorted(listening),
                    "message": said,
                },
            )
        )
    return signals
