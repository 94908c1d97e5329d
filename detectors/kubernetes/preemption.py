"""Pods preempted for a pod of higher priority (docs/causes.md: ``Preempted by ...`` within 30 minutes of a change
that sets a pod priority is that changed workload's ``config_change``; the preempted pods' ``Insufficient``
scheduling failures follow from it). The scheduler's event names the preemptor as ``<namespace>/<pod>`` or, in
later releases, as ``pod <uid>``: a UID is read back to its pod through a listing that shows pods' UIDs
(``-o custom-columns=...UID:.metadata.uid``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_PREEMPTED_BY = re.compile(r"Preempted by (?:pod )?(?P<who>[\w.-]+(?:/[\w.-]+)?) on node")
_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def preemptor_pod(message: str, uids: dict[str, str]) -> str:
    """The pod a ``Preempted`` event says took the place: its name, "" when the event names none or a UID no
    listing showed."""
    found = _PREEMPTED_BY.search(message)
    if found is None:
        return ""
    who = found.group("who")
    if _UID.match(who):
        return uids.get(who, "")
    return who.rsplit("/", 1)[-1]


def preempting_workload(messages: Iterable[str], uids: dict[str, str], workload_of_pod: Callable[[str], str],
                        victim: str) -> str:
    """The one workload whose pods preempted ``victim``'s, "" when none is named or several are."""
    found = {workload_of_pod(pod) for pod in (preemptor_pod(m, uids) for m in messages) if pod}
    found -= {"", victim}
    return found.pop() if len(found) == 1 else ""
