"""Kubernetes API objects (``kubectl get -o yaml|json``, live collection): Pod, Node, Event (core/v1 and
events.k8s.io/v1), Job, CronJob, Deployment, ReplicaSet, HorizontalPodAutoscaler and ``List``s of them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import yaml

from detectors.kubernetes import policies
from detectors.kubernetes.conditions import condition_event, pile_up_event
from detectors.kubernetes.model import (
    ContainerState,
    ContainerStatus,
    Findings,
    KubeEvent,
    NodeCondition,
    NodeInfo,
    ObjectRef,
    PodInfo,
    Rollout,
)
from detectors.kubernetes.text import parse_time

log = logging.getLogger(__name__)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: a 4 MB List in well under a second
_YAML_START = re.compile(r"^(apiVersion|kind|items|metadata):", re.M)


def looks_like_api_object(text: str) -> bool:
    head = text.lstrip()[:4000]
    if head.startswith(("{", "[")):
        return '"kind"' in head or '"items"' in head or '"metadata"' in head
    return bool(_YAML_START.search(head)) and ("kind:" in head or "items:" in head)


def load_documents(text: str) -> list[Any]:
    """JSON or YAML documents; a truncated YAML keeps the documents (and lines) before the break."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return [json.loads(stripped)]
        except (json.JSONDecodeError, RecursionError) as e:
            log.debug("kubernetes: JSON not readable, trying YAML", extra={"error": str(e)})
    docs: list[Any] = []
    try:
        docs.extend(yaml.load_all(text, Loader=_LOADER))  # noqa: S506 - a safe loader
    except (yaml.YAMLError, RecursionError, ValueError) as e:
        mark = getattr(e, "problem_mark", None)
        if mark is not None and mark.line > 1:
            cut = "\n".join(text.split("\n")[: mark.line - 1])
            try:
                docs = list(yaml.load_all(cut, Loader=_LOADER))  # noqa: S506 - a safe loader
            except (yaml.YAMLError, RecursionError, ValueError):
                log.debug("kubernetes: YAML not readable", extra={"error": str(e)})
    return docs


def walk(obj: Any, list_kind: str = "") -> Iterator[dict[str, Any]]:
    """Every object in a document: a List's items carry their kind, or the list's (``PodList`` -> Pod)."""
    if isinstance(obj, list):
        for item in obj:
            yield from walk(item, list_kind)
    elif isinstance(obj, dict):
        if isinstance(obj.get("items"), list):
            kind = str(obj.get("kind") or "")
            yield from walk(obj["items"], kind[: -len("List")] if kind.endswith("List") and kind != "List" else "")
        elif obj.get("kind") or list_kind:
            if not obj.get("kind"):
                obj = {**obj, "kind": list_kind}
            yield obj


def parse_objects(text: str, *, origin: str = "") -> Findings:
    findings = Findings()
    for doc in load_documents(text):
        for obj in walk(doc):
            try:
                _parse_object(obj, findings, origin)
            except (AttributeError, TypeError, ValueError, KeyError) as e:
                log.debug("kubernetes: object skipped", extra={"origin": origin, "error": str(e)})
    return findings


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _ref(obj: dict[str, Any]) -> ObjectRef:
    meta = _d(obj.get("metadata"))
    return ObjectRef(str(obj.get("kind") or ""), str(meta.get("name") or ""), str(meta.get("namespace") or ""))


def _controller(obj: dict[str, Any]) -> ObjectRef | None:
    owners = [_d(o) for o in _l(_d(obj.get("metadata")).get("ownerReferences"))]
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    return ObjectRef(str(owner.get("kind") or ""), str(owner.get("name") or "")) if owner else None


def _parse_object(obj: dict[str, Any], findings: Findings, origin: str) -> None:
    kind = str(obj.get("kind"))
    ref = _ref(obj)
    if kind == "Event":
        event = _event(obj, origin)
        if event is not None:
            findings.events.append(event)
        return
    if not ref.name:
        return
    owner = _controller(obj)
    if owner is not None:
        findings.owners[ref.name] = owner
    status = _d(obj.get("status"))
    for cond in (_d(c) for c in _l(status.get("conditions"))):
        event = condition_event(ref, str(cond.get("type") or ""), str(cond.get("status") or ""),
                                str(cond.get("reason") or ""), str(cond.get("message") or ""),
                                parse_time(cond.get("lastTransitionTime") or cond.get("lastUpdateTime")),
                                origin=origin)
        if event is not None:
            findings.events.append(event)
    if kind == "Pod":
        findings.pods.append(_pod(obj, ref, owner))
        if status.get("reason"):  # Evicted, OutOfcpu, NodeAffinity ...
            findings.events.append(KubeEvent(reason=str(status["reason"]), message=str(status.get("message") or ""),
                                             obj=ref, type="Warning", origin=origin))
    elif kind == "Node":
        findings.nodes.append(_node(obj, ref.name))
    elif kind == "HorizontalPodAutoscaler":
        target = _d(_d(obj.get("spec")).get("scaleTargetRef"))
        if target.get("name"):
            findings.owners[ref.name] = ObjectRef(str(target.get("kind") or ""), str(target["name"]))
    elif kind == "NetworkPolicy":
        findings.policies.append(policies.from_object(obj, origin))
    elif kind == "CronJob":  # its Jobs running at once (status.active) under its concurrency policy
        policy = str(_d(obj.get("spec")).get("concurrencyPolicy") or "Allow")
        piled = pile_up_event(ref, len(_l(status.get("active"))), policy, origin=origin)
        if piled is not None:
            findings.events.append(piled)
    elif kind == "ReplicaSet" and owner is not None:
        annotations = _d(_d(obj.get("metadata")).get("annotations"))
        findings.rollouts.append(Rollout(
            workload=owner.name, revision=str(annotations.get("deployment.kubernetes.io/revision") or ""),
            at=parse_time(_d(obj.get("metadata")).get("creationTimestamp")), detail=f"ReplicaSet {ref.name}",
            origin=origin,
        ))


def _state(value: Any) -> ContainerState | None:
    for name, body in _d(value).items():
        body = _d(body)
        code = body.get("exitCode")
        return ContainerState(
            state=str(name), reason=str(body.get("reason") or ""), message=str(body.get("message") or ""),
            exit_code=int(code) if isinstance(code, int) else None,
            started=parse_time(body.get("startedAt")), finished=parse_time(body.get("finishedAt")),
        )
    return None


def _pod(obj: dict[str, Any], ref: ObjectRef, owner: ObjectRef | None) -> PodInfo:
    status = _d(obj.get("status"))
    pod = PodInfo(name=ref.name, namespace=ref.namespace, node=str(_d(obj.get("spec")).get("nodeName") or ""),
                  owner=owner, start_time=parse_time(status.get("startTime")))
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in (_d(c) for c in _l(status.get(key))):
            pod.containers.append(ContainerStatus(
                pod=ref.name, container=str(cs.get("name") or ""), current=_state(cs.get("state")),
                last=_state(cs.get("lastState")), restart_count=int(cs.get("restartCount") or 0),
                ready=cs.get("ready") if isinstance(cs.get("ready"), bool) else None, image=str(cs.get("image") or ""),
            ))
    return pod


def _node(obj: dict[str, Any], name: str) -> NodeInfo:
    node = NodeInfo(name=name)
    for cond in (_d(c) for c in _l(_d(obj.get("status")).get("conditions"))):
        node.conditions.append(NodeCondition(
            node=name, type=str(cond.get("type") or ""), status=str(cond.get("status") or ""),
            reason=str(cond.get("reason") or ""), message=str(cond.get("message") or ""),
            since=parse_time(cond.get("lastTransitionTime")),
        ))
    node.taints = [str(_d(t).get("key")) for t in _l(_d(obj.get("spec")).get("taints")) if _d(t).get("key")]
    return node


def _event(obj: dict[str, Any], origin: str) -> KubeEvent | None:
    """A core/v1 Event (involvedObject, message, count) or an events.k8s.io/v1 one (regarding, note, series)."""
    about = _d(obj.get("involvedObject") or obj.get("regarding"))
    reason = str(obj.get("reason") or "")
    if not reason or not about.get("name"):
        return None
    series = _d(obj.get("series"))
    count = series.get("count") or obj.get("count") or obj.get("deprecatedCount") or 1
    first = (obj.get("firstTimestamp") or obj.get("deprecatedFirstTimestamp") or obj.get("eventTime")
             or _d(obj.get("metadata")).get("creationTimestamp"))
    last = (series.get("lastObservedTime") or obj.get("lastTimestamp") or obj.get("deprecatedLastTimestamp")
            or obj.get("eventTime") or first)
    host = str(_d(obj.get("source") or obj.get("deprecatedSource")).get("host") or "")
    if not host and obj.get("reportingController") == "kubelet":
        host = str(obj.get("reportingInstance") or "")
    return KubeEvent(
        reason=reason, message=str(obj.get("message") or obj.get("note") or ""),
        obj=ObjectRef(str(about.get("kind") or ""), str(about["name"]), str(about.get("namespace") or "")),
        type=str(obj.get("type") or ""), count=int(count) if str(count).isdigit() else 1,
        first_seen=parse_time(first), last_seen=parse_time(last),
        source_host=host, origin=origin,
        reporter=str(obj.get("reportingInstance") or _d(obj.get("source")).get("component") or ""),
    )


# what a ``jq``/``yq`` filter cut from one object's status looks like: its container statuses, its conditions
_STATUS_KEYS = ("containerStatuses", "initContainerStatuses", "conditions", "phase")


def parse_fragment(text: str, ref: ObjectRef, *, origin: str = "", last_state: bool = False) -> Findings:
    """Parts of one object's ``status`` printed by a filter (``kubectl get pod x -o json | jq .status`` or
    ``'.status.containerStatuses'``, ``kubectl get node x -o yaml | yq .status.conditions``, ``-o
    jsonpath='{.status.containerStatuses[0].lastState}'``), read as that object's: the object named on the command,
    ``ref``. A bare container state (``{"terminated": {...}}``) is the container's last state when ``last_state``
    (the filter asked for ``lastState``), else its current one. Nothing is read from text that is not such a part."""
    status: dict[str, Any] = {}
    for doc in load_documents(text):
        for part in doc if isinstance(doc, list) and _is_status_list(doc) is None else [doc]:
            _merge_fragment(part, status, last_state)
    if not status:
        return Findings()
    obj = {"kind": ref.kind, "metadata": {"name": ref.name, "namespace": ref.namespace}, "status": status}
    findings = Findings()
    _parse_object(obj, findings, origin)
    return findings


_STATES = frozenset({"waiting", "running", "terminated"})


def _merge_fragment(part: Any, status: dict[str, Any], last_state: bool) -> None:
    if isinstance(part, dict) and part and set(part) <= _STATES:  # one container's state alone
        part = {"name": "", "lastState" if last_state else "state": part}
    if isinstance(part, list):
        key = _is_status_list(part)
        if key:
            status.setdefault(key, []).extend(part)
    elif isinstance(part, dict):
        if isinstance(part.get("status"), dict):
            part = part["status"]
        if any(key in part for key in _STATUS_KEYS):
            for key in _STATUS_KEYS:
                if key in part:
                    status[key] = part[key]
        elif isinstance(part.get("state"), dict) or isinstance(part.get("lastState"), dict):
            status.setdefault("containerStatuses", []).append(part)  # one container's status (``.[0]``)


def _is_status_list(items: list[Any]) -> str | None:
    """Which status list ``items`` is: container statuses (``state``/``lastState``), conditions (``type`` and
    ``status``), else None."""
    dicts = [i for i in items if isinstance(i, dict)]
    if not dicts or len(dicts) != len(items):
        return None
    if all("state" in d or "lastState" in d for d in dicts):
        return "containerStatuses"
    if all("type" in d and "status" in d for d in dicts):
        return "conditions"
    return None


# ``kubectl get events -o json | jq -c '.items[] | {...}'``: one compact JSON object a line, its keys renamed by
# the filter. Which keys can carry each field (data; tested row by row in tests/detectors/k8s/test_parsers.py).
EVENT_LINE_KEYS: dict[str, tuple[str, ...]] = {
    "message": ("message", "msg", "note"),
    "object": ("object", "obj", "name", "involvedObject", "regarding"),
    "time": ("lastTimestamp", "last", "lastSeen", "t", "time", "ts", "eventTime", "firstTimestamp"),
    "kind": ("kind", "objectKind"),
    "namespace": ("namespace", "ns"),
    "type": ("type",),
}


def _first_key(obj: dict[str, Any], field: str) -> Any:
    return next((obj[k] for k in EVENT_LINE_KEYS[field] if obj.get(k) not in (None, "")), None)


def parse_event_lines(text: str, origin: str = "") -> list[KubeEvent] | None:
    """Events printed one compact JSON object a line (a ``jq -c`` filter over ``kubectl get events -o json``),
    each with a ``reason``, a message and the object's name under any key of ``EVENT_LINE_KEYS``. None unless
    every non-empty line is such an object (log lines in JSON have no ``reason`` and stay logs)."""
    events: list[KubeEvent] = []
    for line in (raw.strip() for raw in text.split("\n")):
        if not line:
            continue
        if not line.startswith("{"):
            return None
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if not isinstance(obj, dict) or not obj.get("reason"):
            return None
        about = _first_key(obj, "object")
        message = _first_key(obj, "message")
        if isinstance(about, dict):
            kind, name = str(about.get("kind") or ""), str(about.get("name") or "")
            namespace = str(about.get("namespace") or "")
        else:
            kind, name = str(_first_key(obj, "kind") or ""), str(about or "")
            namespace = str(_first_key(obj, "namespace") or "")
        if "/" in name and not kind:  # ``pod/x``
            kind, name = name.split("/", 1)
        if not name or message is None:
            return None
        when = parse_time(_first_key(obj, "time"))
        events.append(KubeEvent(reason=str(obj["reason"]), message=str(message),
                                obj=ObjectRef(kind[:1].upper() + kind[1:], name, namespace),
                                type=str(_first_key(obj, "type") or ""), first_seen=when, last_seen=when,
                                origin=origin))
    return events or None
