"""A StatefulSet whose pods cannot find their peers after a change of its governing headless Service (docs/causes.md):
a pod's stable name ``<statefulset>-<ordinal>.<service>`` exists only while ``<service>`` (the StatefulSet's
``serviceName``) is a headless Service that selects the pods. When that Service is gone (renamed by a chart while
``serviceName``, immutable, still names the old one: ``services "x" not found``) or selects nothing (its selector
changed: the EndpointSlice's ENDPOINTS ``<unset>``), the peers' names stop resolving (``UnknownHostException``,
``nxdomain``, ``no such host``): the cause is the StatefulSet's setup, its ``config_change``, not the cluster DNS.

Read from a line that fails to resolve such a name whose Service the evidence shows missing or empty.
"""

from __future__ import annotations

import re

from bot.domain import Evidence, EvidenceType, Signal, SignalSource, stable_hash
from bot.domain.workloads import workload_of_pod

SCORE = 0.85
_DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
PEER_NAME = re.compile(rf"\b(?P<pod>{_DNS_LABEL}-\d+)\.(?P<svc>{_DNS_LABEL})(?![\w-])")
UNRESOLVED = re.compile(r"UnknownHostException|no such host|nxdomain|Name or service not known|failed to resolve|"
                        r"could not resolve|Temporary failure in name resolution|ENOTFOUND|NXDOMAIN", re.I)
_SERVICE_GONE = re.compile(r'services? "(?P<svc>[\w.-]+)" not found')
# ``kubectl get endpointslices``: NAME ADDRESSTYPE PORTS ENDPOINTS AGE, the name the Service's plus five characters
_SLICE_EMPTY = re.compile(r"^(?P<svc>[\w.-]+)-[a-z0-9]{5}\s+IPv[46]\s+\S+\s+<unset>\s", re.M)


def missing_services(texts: list[str]) -> set[str]:
    """Services the evidence shows gone (``not found``) or selecting no pod (an EndpointSlice without endpoints)."""
    out: set[str] = set()
    for text in texts:
        out.update(m["svc"] for m in _SERVICE_GONE.finditer(text))
        out.update(m["svc"] for m in _SLICE_EMPTY.finditer(text))
    return out


def peer_signals(texts: list[str]) -> list[Signal]:
    """One decisive ``config_change`` per StatefulSet whose peers' names fail on a missing or empty Service."""
    missing = missing_services(texts)
    if not missing:
        return []
    quotes: dict[str, tuple[str, str]] = {}
    for text in texts:
        for line in text.split("\n"):
            if len(line) > 4000 or not UNRESOLVED.search(line):
                continue
            for match in PEER_NAME.finditer(line):
                if match["svc"] in missing:
                    workload = workload_of_pod(match["pod"])
                    quotes.setdefault(workload, (match["svc"], " ".join(line.split())[:300]))
    signals = []
    for workload, (service, quote) in sorted(quotes.items()):
        evidence = [Evidence(id=f"k8s:{stable_hash('peer_names', workload, quote)}", type=EvidenceType.KUBERNETES,
                             summary=f"{workload}: {quote}"[:300], service=workload,
                             detail=f"rule statefulset.governing_service; Service {service} missing or empty")]
        signals.append(Signal(
            source=SignalSource.KUBERNETES, detector="k8s.peers", service=workload, kind="config_change",
            title=f"{workload}: its pods' names under Service {service} do not resolve (the Service is missing or "
                  f"selects no pod)",
            score=SCORE, evidence=evidence,
            attributes={"decisive": True, "rule": "statefulset.governing_service", "object": workload, "count": 1,
                        "message": quote, "blame": "workload"}))
    return signals
