"""``events.jsonl`` rows of kind ``k8s_event``: an event as kubectl prints it, its message alone, or a
container state (``Last State: Terminated, Reason: OOMKilled, Exit Code: 137``), with the row's own time."""

from __future__ import annotations

import re

from bot.domain import ChangeEvent
from detectors.kubernetes.events_table import parse_event_line
from detectors.kubernetes.model import (
    ContainerState,
    ContainerStatus,
    Findings,
    KubeEvent,
    ObjectRef,
    PodInfo,
)
from detectors.kubernetes.rules import reason_from_message
from detectors.kubernetes.text import clean, parse_ref

K8S_EVENT_KINDS = {"k8s_event", "k8s", "kubernetes", "kube_event", "event"}
_STATE = re.compile(r"\b(?P<state>Terminated|Waiting)\b", re.I)
_REASON = re.compile(r"Reason:?\s*(?P<reason>[A-Z][A-Za-z]+)")
_EXIT = re.compile(r"Exit ?Code:?\s*(?P<code>-?\d+)|exit code (?P<code2>-?\d+)", re.I)
_LAST = re.compile(r"Last ?State", re.I)
_OBJECT = re.compile(r"^(?P<obj>[a-z]+/[\w.-]+)\s*:?\s+(?P<msg>.*)$")


def findings_from_rows(events: list[ChangeEvent]) -> Findings:
    findings = Findings()
    for row in events:
        if row.kind.lower().strip() not in K8S_EVENT_KINDS or not row.text.strip():
            continue
        text = clean(row.text).strip().replace("\n", " ")
        state = _container_state(text, row)
        if state is not None:
            findings.pods.append(state)
            continue
        event = _event(text, row)
        if event is not None:
            findings.events.append(event)
    return findings


def _event(text: str, row: ChangeEvent) -> KubeEvent | None:
    event = parse_event_line(text, origin="events.jsonl")
    if event is None:
        bare = _OBJECT.match(text)
        obj = parse_ref(bare.group("obj")) if bare else ObjectRef("", row.service or "")
        message = bare.group("msg") if bare else text
        reason = reason_from_message(message)
        if not reason:
            return None
        event = KubeEvent(reason=reason, message=message, obj=obj, type="Warning", origin="events.jsonl")
    if not event.obj.name:
        event.obj = ObjectRef("", row.service or "")
    event.service_hint = row.service or ""
    event.first_seen = event.last_seen = row.ts
    event.first_age = event.last_age = None
    return event


def _container_state(text: str, row: ChangeEvent) -> PodInfo | None:
    state, reason = _STATE.search(text), _REASON.search(text)
    if not state or not reason:
        return None
    code = _EXIT.search(text)
    exit_code = int(code.group("code") or code.group("code2")) if code else None
    found = ContainerState(state=state.group("state").lower(), reason=reason.group("reason"), exit_code=exit_code,
                           finished=row.ts, message=text)
    bare = _OBJECT.match(text)
    pod = parse_ref(bare.group("obj")).name if bare else (row.service or "")
    status = ContainerStatus(pod=pod, container="")
    if _LAST.search(text) or found.state == "terminated":
        status.last = found
    else:
        status.current = found
    return PodInfo(name=pod, containers=[status], workload="" if bare else (row.service or ""))
