"""Text helpers shared by the kubectl parsers: cleaning, kubectl ages, timestamps, object references."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from detectors.kubernetes.model import ObjectRef

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_AGE_PART = re.compile(r"(\d+)([ydhms])")
_AGE = re.compile(r"^(?:\d+y)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$")
_REPEAT = re.compile(r"\(x(?P<count>\d+) over (?P<over>[\dydhms]+)\)")
_UNITS = {"y": 365 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}

# kubectl's short resource names -> API kinds
KINDS = {
    "pod": "Pod", "pods": "Pod", "po": "Pod", "node": "Node", "nodes": "Node", "no": "Node",
    "job": "Job", "jobs": "Job", "cronjob": "CronJob", "cj": "CronJob", "deployment": "Deployment",
    "deploy": "Deployment", "replicaset": "ReplicaSet", "rs": "ReplicaSet", "statefulset": "StatefulSet",
    "sts": "StatefulSet", "daemonset": "DaemonSet", "ds": "DaemonSet", "persistentvolumeclaim":
    "PersistentVolumeClaim", "pvc": "PersistentVolumeClaim", "persistentvolume": "PersistentVolume",
    "pv": "PersistentVolume", "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "hpa": "HorizontalPodAutoscaler", "service": "Service", "svc": "Service", "namespace": "Namespace",
}


def clean(text: str) -> str:
    """Without ANSI colour codes, carriage returns, tabs and NULs."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.expandtabs(8)


def parse_age(value: str) -> timedelta | None:
    """kubectl's ``3m12s`` / ``2d3h`` / ``45s`` as a duration; None for ``<unknown>`` or anything else."""
    text = value.strip().lower()
    if not text or not _AGE.match(text) or not any(c.isdigit() for c in text):
        return None
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _AGE_PART.findall(text)))


def parse_age_column(value: str) -> tuple[timedelta | None, timedelta | None, int]:
    """A describe ``Age`` cell: ``2m (x25 over 8m)`` -> (last age, first age, count)."""
    repeat = _REPEAT.search(value)
    last = parse_age(value.split("(", 1)[0])
    if repeat:
        return last, parse_age(repeat.group("over")), int(repeat.group("count"))
    return last, last, 1


def parse_time(value: object) -> datetime | None:
    """ISO-8601 (the API) or RFC 1123 (``kubectl describe``: ``Mon, 04 Mar 2024 11:52:10 +0000``)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value or "").strip()
    if not text or text.startswith("<"):
        return None
    try:
        iso = text[:-1] + "+00:00" if text.endswith("Z") else text
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_ref(value: str, *, default_kind: str = "") -> ObjectRef:
    """``pod/checkout-x`` / ``Deployment/checkout`` / ``node-3`` as a reference."""
    text = value.strip()
    if "/" in text:
        kind, name = text.split("/", 1)
        kind = kind.split(".", 1)[0]  # "deployment.apps" -> "deployment"
        return ObjectRef(KINDS.get(kind.lower(), kind[:1].upper() + kind[1:]), name.strip())
    return ObjectRef(default_kind, text)


def api_kind(value: str) -> str:
    text = value.strip()
    return KINDS.get(text.lower(), text)
