"""Object conditions that read like events: a Job's ``Failed/BackoffLimitExceeded``, a Deployment's
``Progressing=False/ProgressDeadlineExceeded`` or ``ReplicaFailure/FailedCreate``, an HPA's
``ScalingLimited/TooManyReplicas``, a pod's ``PodScheduled=False/Unschedulable``."""

from __future__ import annotations

from datetime import datetime

from detectors.kubernetes.model import KubeEvent, ObjectRef

# (condition type, status) that say something is wrong
BAD_CONDITIONS = {
    ("Failed", "True"), ("Progressing", "False"), ("ReplicaFailure", "True"), ("ScalingLimited", "True"),
    ("AbleToScale", "False"), ("ScalingActive", "False"), ("PodScheduled", "False"), ("FailureTarget", "True"),
}
# condition reasons named differently from the event the same controller emits
REASON_ALIASES = {"Unschedulable": "FailedScheduling"}


def condition_event(
    ref: ObjectRef, ctype: str, status: str, reason: str, message: str, since: datetime | None, *, origin: str = ""
) -> KubeEvent | None:
    if (ctype, status) not in BAD_CONDITIONS or not reason:
        return None
    return KubeEvent(reason=REASON_ALIASES.get(reason, reason), message=message, obj=ref, type="Warning",
                     first_seen=since, last_seen=since, origin=origin)
