"""Object conditions that read like events: a Job's ``Failed/BackoffLimitExceeded``, a Deployment's
``Progressing=False/ProgressDeadlineExceeded`` or ``ReplicaFailure/FailedCreate``, an HPA's
``ScalingLimited/TooManyReplicas``, a pod's ``PodScheduled=False/Unschedulable``; and a CronJob whose runs pile
up (several active Jobs at once: runs that outlast the schedule's period under ``concurrencyPolicy: Allow``)."""

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


PILE_UP = 3  # active Jobs of one CronJob at once: its runs overlap, more than an occasional slow run


def pile_up_event(ref: ObjectRef, active: int, policy: str = "", *, origin: str = "") -> KubeEvent | None:
    """A CronJob with ``active`` Jobs running at once (``kubectl get cronjob``'s ACTIVE, describe's Active Jobs)."""
    if ref.kind != "CronJob" or active < PILE_UP or policy in ("Forbid", "Replace"):
        return None
    said = f" (concurrencyPolicy {policy})" if policy else ""
    return KubeEvent(reason="JobsPileUp", obj=ref, type="Warning", origin=origin,
                     message=f"{active} Jobs of the CronJob active at once{said}: its runs overlap and pile up")
