"""NetworkPolicies as evidence (docs/causes.md: a policy that drops the traffic is ``network_policy_block`` on the
workload it selects): read from ``kubectl describe networkpolicy``, ``get networkpolicy`` tables and API objects;
a policy made shortly before the alert that isolates its pods is a decisive finding, an older or narrower one is
context."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.domain import Evidence, EvidenceType, Signal, SignalSource, stable_hash
from detectors.kubernetes.model import NetworkPolicy, PodInfo
from detectors.kubernetes.text import clean, parse_age, parse_time

WINDOW = timedelta(hours=2)
RECENT = timedelta(minutes=30)
_WORKLOAD_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "name", "app.kubernetes.io/instance")
_CREATED = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2}) (?P<tz>[+-]\d{4})")


def selector_of(text: str) -> dict[str, str] | None:
    """``app=payments-api,tier=api`` -> labels; ``<none>`` (every pod of the namespace) -> None."""
    value = text.strip().split(" (", 1)[0].strip()
    if not value or value.startswith("<none>"):
        return None
    return dict(part.split("=", 1) for part in value.split(",") if "=" in part)


def _peer_selectors(spec: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The peers under the describe's ``From:`` / ``To:`` (``PodSelector: app=api-gateway``, with the
    ``NamespaceSelector`` of the same peer): their pod selectors and, per peer, its namespace selector. A peer that
    admits by namespace or address only is kept as ``namespace:<selector>`` / ``ipblock:<cidr>``, so that a policy
    still admitting it is never read as admitting nobody."""
    blocks: list[dict[str, str]] = []
    in_peers = False
    for line in spec:
        stripped = line.strip()
        if stripped in ("From:", "To:"):
            in_peers = True
            blocks.append({})
        elif in_peers and ":" in stripped and stripped.split(":", 1)[0] in ("PodSelector", "NamespaceSelector",
                                                                             "IPBlock", "CIDR"):
            key, value = (part.strip() for part in stripped.split(":", 1))
            blocks[-1][key] = value
        elif stripped.startswith(("Allowing", "Not affecting", "Policy Types", "To Port", "----------")):
            in_peers = False
    return _peers_of(blocks)


def _none(value: str) -> bool:
    return not value or value.startswith("<none>")


def _peers_of(blocks: list[dict[str, str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    peers: list[str] = []
    spaces: list[str] = []
    for block in blocks:
        pod, space = block.get("PodSelector", ""), block.get("NamespaceSelector", "")
        address = block.get("IPBlock") or block.get("CIDR") or ""
        if not _none(pod):
            peers.append(pod)
            spaces.append("" if _none(space) else space)
        elif "NamespaceSelector" in block:
            peers.append(f"namespace:{space if not _none(space) else '<all>'}")
            spaces.append("")
        elif address:
            peers.append(f"ipblock:{address}")
            spaces.append("")
    return tuple(peers), tuple(spaces)


def _labels_text(value: Any) -> str:
    labels = _d(_d(value).get("matchLabels"))
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _object_peers(spec: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The peers of an API object's ``ingress[].from`` and ``egress[].to`` (``podSelector.matchLabels``,
    ``namespaceSelector.matchLabels``, ``ipBlock.cidr``), as the describe prints them."""
    blocks: list[dict[str, str]] = []
    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        for rule in rules if isinstance(rules, list) else []:
            peers = _d(rule).get(key)
            for peer in peers if isinstance(peers, list) else []:
                peer = _d(peer)
                block: dict[str, str] = {}
                if "podSelector" in peer:
                    block["PodSelector"] = _labels_text(peer["podSelector"]) or "<none>"
                if "namespaceSelector" in peer:
                    block["NamespaceSelector"] = _labels_text(peer["namespaceSelector"]) or "<none>"
                if "ipBlock" in peer:
                    block["IPBlock"] = str(_d(peer["ipBlock"]).get("cidr") or "?")
                blocks.append(block)
    return _peers_of(blocks)


def from_describe(name: str, fields: dict[str, str], spec: list[str], origin: str) -> NetworkPolicy:
    text = "\n".join(spec)
    selector_line = next((line for line in spec if line.strip().startswith("PodSelector:")), "")
    created = _CREATED.search(fields.get("Created on", ""))
    peers, spaces = _peer_selectors(spec)
    return NetworkPolicy(
        name=name, namespace=fields.get("Namespace", ""),
        selector=selector_of(selector_line.split(":", 1)[1]) if selector_line else None,
        created=parse_time(f"{created['date']}T{created['time']}{created['tz'][:3]}:{created['tz'][3:]}")
        if created else None,
        isolates=tuple(d for d in ("ingress", "egress") if f"isolated for {d} connectivity" in text),
        origin=origin, peers=peers, peer_namespaces=spaces,
    )


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def from_object(obj: dict[str, Any], origin: str) -> NetworkPolicy:
    meta, spec = _d(obj.get("metadata")), _d(obj.get("spec"))
    labels = _d(_d(spec.get("podSelector")).get("matchLabels"))
    declared = spec.get("policyTypes")
    types = [str(t).lower() for t in declared] if isinstance(declared, list) else ["ingress"]
    isolates = tuple(d for d in ("ingress", "egress") if d in types and not spec.get(d))
    peers, spaces = _object_peers(spec)
    return NetworkPolicy(name=str(meta.get("name") or ""), namespace=str(meta.get("namespace") or ""),
                         selector={str(k): str(v) for k, v in labels.items()} or None,
                         created=parse_time(meta.get("creationTimestamp")), isolates=isolates, origin=origin,
                         peers=peers, peer_namespaces=spaces)


def from_table_row(cells: dict[str, str], namespace: str, origin: str) -> NetworkPolicy | None:
    if not cells.get("NAME"):
        return None
    return NetworkPolicy(name=cells["NAME"], namespace=cells.get("NAMESPACE", namespace),
                         selector=selector_of(cells.get("POD-SELECTOR", "")), age=parse_age(cells.get("AGE", "")),
                         origin=origin)


def _merged(policies: list[NetworkPolicy]) -> list[NetworkPolicy]:
    """One policy per (namespace, name): a describe's isolation and a table's age together."""
    out: dict[str, NetworkPolicy] = {}
    for policy in policies:
        known = out.get(policy.name)
        if known is None:
            out[policy.name] = policy
            continue
        known.namespace = known.namespace or policy.namespace
        known.created = known.created or policy.created
        known.age = known.age or policy.age
        known.isolates = known.isolates or policy.isolates
        known.selector = known.selector if known.selector is not None else policy.selector
        if not known.peers:
            known.peers, known.peer_namespaces = policy.peers, policy.peer_namespaces
    return list(out.values())


def _selected(policy: NetworkPolicy, pods: list[PodInfo], workload_of: Any) -> list[str]:
    if policy.selector is not None:
        names = [policy.selector[k] for k in _WORKLOAD_LABELS if k in policy.selector]
        return names[:1]
    same = [p for p in pods if p.namespace and p.namespace == policy.namespace]
    return sorted({workload_of(p.name) for p in same})


# ``kubectl get pods -l app=x`` (or ``--selector``) answered ``No resources found``: no pod carries those labels
_EMPTY_SELECTION = re.compile(
    r"get (?:pods?|po)\b[^\n]*?(?:-l|--selector)[= ]['\"]?(?P<sel>[\w./-]+=[\w./-]+(?:,[\w./-]+=[\w./-]+)*)['\"]?"
    r"[^\n]*\n\s*No resources found")


def unmatched_selectors(texts: list[str]) -> set[str]:
    """The label selectors a pasted ``kubectl get pods -l <selector>`` showed to match no pod."""
    return {m.group("sel") for text in texts for m in _EMPTY_SELECTION.finditer(text)}


_KIND = re.compile(r"\bget\s+(?P<kind>pods?|po|namespaces?|ns)\b")


@dataclass
class LabelListings:
    """What ``kubectl get pods --show-labels`` and ``kubectl get namespaces --show-labels`` listings show: each
    listed pod's namespace ("" when the listing does not say) and labels, each listed namespace's labels."""

    pods: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)


def _label_set(text: str) -> dict[str, str]:
    return {} if _none(text) else dict(part.split("=", 1) for part in text.split(",") if "=" in part)


def label_listings(texts: list[str]) -> LabelListings:
    """The pods and namespaces the pasted ``--show-labels`` listings show, with their labels (the LABELS column)."""
    # parse reads policies: imported when used
    from detectors.kubernetes.parse import command_namespace, split_commands

    out = LabelListings()
    for text in texts:
        for command, segment in split_commands(clean(text)):
            kind = _KIND.search(command or "")
            if kind is None or "--show-labels" not in (command or ""):
                continue
            namespace = command_namespace(command or "")
            lines = [line for line in segment.split("\n") if line.strip()]
            header = next((i for i, line in enumerate(lines) if line.split()[:1] in (["NAME"], ["NAMESPACE"])
                           and line.split()[-1] == "LABELS"), None)
            if header is None:
                continue
            columns = lines[header].split()
            for line in lines[header + 1:]:
                cells = line.split()
                if len(cells) < 2 or cells[0] in ("NAME", "NAMESPACE"):
                    continue
                labels = _label_set(cells[-1])
                if kind.group("kind").startswith("n"):
                    out.namespaces[cells[0]] = labels
                elif columns[0] == "NAMESPACE":
                    out.pods.append((cells[0], labels))
                else:
                    out.pods.append((namespace, labels))
    return out


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _peer_unmatched(peer: str, space: str, namespace: str, unmatched: set[str], listings: LabelListings) -> bool:
    """Whether the evidence shows that no pod is the peer: its pod selector matched nothing (``get pods -l``), a
    ``--show-labels`` listing of the namespace it is looked for in shows no pod carrying its labels, or the
    namespaces listing shows no namespace its namespace selector selects. A peer by address never is."""
    if peer.startswith("ipblock:"):
        return False
    space = peer.removeprefix("namespace:") if peer.startswith("namespace:") else space
    wanted_space = _label_set(space) if space and space != "<all>" else {}
    if wanted_space and listings.namespaces and not any(
            _matches(wanted_space, labels | {"kubernetes.io/metadata.name": name})
            for name, labels in listings.namespaces.items()):
        return True
    if peer.startswith("namespace:"):
        return False
    if peer in unmatched:
        return True
    # the namespace the peer's pods are looked for in: its namespace selector's name, else the policy's own
    looked_in = wanted_space.get("kubernetes.io/metadata.name", "") if wanted_space else namespace
    if wanted_space and len(wanted_space) > 1:
        looked_in = ""
    rows = [labels for ns, labels in listings.pods if ns and ns == looked_in]
    return bool(rows) and not any(_matches(_label_set(peer), labels) for labels in rows)


def policy_signals(policies: list[NetworkPolicy], pods: list[PodInfo], workload_of: Any, *,
                   alert_time: datetime, alert_text: str = "", unmatched: set[str] | None = None,
                   listings: LabelListings | None = None) -> list[Signal]:
    """``alert_text``: the alerts' label values and texts. A policy that selects every pod of a namespace cuts
    the traffic of the workloads the alerts name (docs/causes.md): when the alerts name some of its workloads,
    only those get the decisive finding; the others keep it as context. ``unmatched``: label selectors the evidence
    shows to match no pod; a policy that admits only peers so selected (whatever its age: the peers' labels changed,
    not the policy) cuts its workloads off from every peer it meant to admit; ``listings``: the pods and namespaces
    ``--show-labels`` listings show, read the same way (``_peer_unmatched``)."""
    named = set(re.findall(r"[a-z0-9][a-z0-9.-]*", alert_text.lower()))
    signals: list[Signal] = []
    for policy in _merged(policies):
        spaces = policy.peer_namespaces or ("",) * len(policy.peers)
        if policy.peers and all(_peer_unmatched(peer, space, policy.namespace, unmatched or set(),
                                                listings or LabelListings())
                                for peer, space in zip(policy.peers, spaces, strict=False)):
            signals.extend(_peers_gone(policy, service) for service in _selected(policy, pods, workload_of))
            continue
        made = policy.created or (alert_time - policy.age if policy.age is not None else None)
        if made is None or not (-300 <= (alert_time - made).total_seconds() <= WINDOW.total_seconds()):
            continue
        recent_isolation = bool(policy.isolates) and alert_time - made <= RECENT
        selected = _selected(policy, pods, workload_of)
        alerted = {s for s in selected if s.lower() in named} if policy.selector is None else set()
        for service in selected:
            decisive = recent_isolation and (not alerted or service in alerted)
            signals.append(_signal(policy, service, made, decisive=decisive))
    return signals


def _signal(policy: NetworkPolicy, service: str, made: datetime, *, decisive: bool) -> Signal:
    scope = "every pod of the namespace" if policy.selector is None else ",".join(
        f"{k}={v}" for k, v in policy.selector.items())
    isolation = f"; isolates {' and '.join(policy.isolates)}" if policy.isolates else ""
    summary = (f"networkpolicy/{policy.name} in {policy.namespace or 'its namespace'} made "
               f"{made.strftime('%H:%M UTC')}, selects {scope}{isolation}")
    return Signal(
        source=SignalSource.KUBERNETES, detector="k8s.network_policy", service=service, kind="network_policy_block",
        title=summary, score=0.75 if decisive else 0.45, started_at=made,
        evidence=[Evidence(id=f"k8s:{stable_hash('netpol', policy.name, service)}", type=EvidenceType.KUBERNETES,
                           summary=summary, service=service, ts=made, detail=f"from {policy.origin}")],
        attributes={"decisive": decisive, "rule": "netpol.recent_isolation" if decisive else "netpol.recent",
                    "object": f"networkpolicy/{policy.name}", "reason": "NetworkPolicy", "count": 1,
                    "isolates": list(policy.isolates)},
    )


def _peers_gone(policy: NetworkPolicy, service: str) -> Signal:
    summary = (f"networkpolicy/{policy.name} in {policy.namespace or 'its namespace'} admits only pods "
               f"{' or '.join(policy.peers)}, and no pod matches")
    return Signal(
        source=SignalSource.KUBERNETES, detector="k8s.network_policy", service=service, kind="network_policy_block",
        title=summary, score=0.8,
        evidence=[Evidence(id=f"k8s:{stable_hash('netpol-peers', policy.name, service)}", type=EvidenceType.KUBERNETES,
                           summary=summary, service=service, detail=f"from {policy.origin}")],
        attributes={"decisive": True, "rule": "netpol.peers_unmatched", "object": f"networkpolicy/{policy.name}",
                    "reason": "NetworkPolicy", "count": 1, "isolates": list(policy.isolates)},
    )


UNREACHABLE_KINDS = ("dependency_failure",)
_GRACE = timedelta(minutes=2)


def confirmed_by_callers(signals: list[Signal]) -> list[Signal]:
    """A policy (made within ``WINDOW`` of the alert, ``policy_signals``) that selects a workload whose callers
    then fail to reach it (a decisive ``dependency_failure`` found on it or blaming it, begun no earlier than the
    policy: an aggregated API, a webhook that does not answer) is what cut them off: its finding becomes decisive,
    above theirs (docs/causes.md, the NetworkPolicy row). A policy that admits some traffic (ingress from one
    namespace only) shows no isolation in a table; the callers' failure after it says it."""
    unreachable: dict[str, tuple[float, datetime | None]] = {}
    for sig in signals:
        if sig.kind in UNREACHABLE_KINDS and sig.attributes.get("decisive"):
            target = str(sig.attributes.get("culprit") or sig.service)
            score, began = unreachable.get(target, (0.0, None))
            first = min((t for t in (began, sig.started_at) if t is not None), default=None)
            unreachable[target] = (max(score, float(sig.score)), first)
    out = []
    for sig in signals:
        made, (score, began) = sig.started_at, unreachable.get(sig.service or "", (0.0, None))
        if (sig.detector == "k8s.network_policy" and not sig.attributes.get("decisive") and score
                and made is not None and (began is None or began >= made - _GRACE)):
            sig = sig.model_copy(update={
                "score": round(min(0.95, max(0.75, score + 0.05)), 4),
                "attributes": {**sig.attributes, "decisive": True, "rule": "netpol.recent_unreachable"},
            })
        out.append(sig)
    return out
