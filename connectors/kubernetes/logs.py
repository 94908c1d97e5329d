"""Kubernetes: pod logs (current and previous container) and the pods' events, via the official client.

Pods are found with a label selector template (default ``app={service}``). Label selectors have no
quoting, so a service name is put in only when it is a valid label value (at most 63 characters,
``[A-Za-z0-9]`` at both ends, ``[-_.A-Za-z0-9]`` between); any other name (a comma, ``!=``, a space,
parentheses would change which pods are selected) is not queried and the source says why. Logs are read with
``timestamps=True`` so every line carries the kubelet's RFC 3339 time; a line that already starts
with a time of its own keeps only that one. Events (``BackOff``, ``OOMKilling``, ``FailedScheduling``,
...) become lines ``<time> <Type> <reason> <kind>/<name>: <message>``. The client is synchronous;
calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import ConnectorError
from connectors.logsources.base import UNAVAILABLE_STATUS, LogQuery, LogSourceUnavailable, has_own_time, iso

log = logging.getLogger(__name__)

PLACEHOLDER = "{service}"
_LABEL_VALUE = re.compile(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?")


def label_selector(template: str, service: str) -> str:
    """``template`` with ``{service}`` replaced by ``service``, which must be a valid label value.

    Raises ``ValueError`` for any other name: the selector language has no quotes, so ``a,b``,
    ``a!=b``, ``x in (a, b)`` or a space would select other pods than the service's.
    """
    if not _LABEL_VALUE.fullmatch(service):
        raise ValueError("the service name is not a valid Kubernetes label value (at most 63 characters, "
                         "[A-Za-z0-9] at both ends, [-_.A-Za-z0-9] between)")
    return template.replace(PLACEHOLDER, service)


def _parse_rfc3339(text: str) -> datetime | None:
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:  # nanoseconds: fromisoformat takes at most 6 digits
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def split_log_text(text: str, *, start: datetime, end: datetime) -> list[str]:
    """Lines of a ``timestamps=True`` pod log inside [start, end]."""
    out = []
    for raw in text.splitlines():
        stamp_text, _, rest = raw.partition(" ")
        ts = _parse_rfc3339(stamp_text)
        if ts is None:
            out.append(raw)
            continue
        if ts < start or ts > end:
            continue
        out.append(rest if has_own_time(rest) else f"{iso(ts)} {rest}")
    return out


def event_line(event: Any) -> tuple[datetime | None, str]:
    when = event.last_timestamp or event.event_time or event.first_timestamp
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    obj = event.involved_object
    kind = getattr(obj, "kind", "") or ""
    name = getattr(obj, "name", "") or ""
    stamp_text = iso(when) if when else ""
    count = f" (x{event.count})" if getattr(event, "count", None) and event.count > 1 else ""
    return when, f"{stamp_text} {event.type or 'Normal'} {event.reason or ''} {kind.lower()}/{name}: " \
                 f"{(event.message or '').strip()}{count}".strip()


class KubernetesLogSource:
    name = "kubernetes"

    def __init__(self, *, core_api: Any, namespace: str = "default", selector: str = "app={service}",
                 previous: bool = True, events: bool = True) -> None:
        self.api = core_api  # kubernetes.client.CoreV1Api
        self.namespace = namespace
        self.selector = selector
        self.previous = previous
        self.events = events

    async def fetch(self, query: LogQuery) -> list[str]:
        return await asyncio.to_thread(self._fetch, query)

    def _fetch(self, query: LogQuery) -> list[str]:
        from kubernetes.client.exceptions import ApiException

        try:
            selector = label_selector(self.selector, query.service)
        except ValueError as e:
            raise ConnectorError(f"{e}; pods not listed (logs.kubernetes_selector)") from e
        try:
            pods = self.api.list_namespaced_pod(self.namespace, label_selector=selector)
        except ApiException as e:
            failure = f"Kubernetes refused to list pods in {self.namespace!r}: {e.status} {e.reason}"
            if e.status in UNAVAILABLE_STATUS:
                raise LogSourceUnavailable(f"{failure}; check the cluster credentials of logs.kubernetes_enabled") from e
            raise ConnectorError(f"{failure} (check logs.kubernetes_namespace, logs.kubernetes_selector)") from e
        except Exception as e:
            raise LogSourceUnavailable(f"Kubernetes API is unreachable ({e.__class__.__name__}); check the cluster "
                                       "credentials of logs.kubernetes_enabled") from e
        since = max(1, int((datetime.now(UTC) - query.start).total_seconds()))
        lines: list[str] = []
        for pod in pods.items:
            name = pod.metadata.name
            restarts = sum((s.restart_count or 0) for s in (pod.status.container_statuses or []))
            for container in pod.spec.containers:
                variants = [False, True] if self.previous and restarts else [False]
                for previous in variants:
                    try:
                        text = self.api.read_namespaced_pod_log(
                            name, self.namespace, container=container.name, timestamps=True,
                            since_seconds=since, previous=previous, tail_lines=query.limit,
                        )
                    except ApiException as e:
                        log.info("pod log unavailable", extra={"pod": name, "status": e.status})
                        continue
                    except Exception as e:  # transport failures (urllib3) mid-way
                        raise LogSourceUnavailable(f"Kubernetes API is unreachable ({e.__class__.__name__}) while "
                                                   "reading pod logs; check logs.kubernetes_enabled") from e
                    lines.extend(split_log_text(text or "", start=query.start, end=query.end))
            if self.events:
                lines.extend(self._events(name, query))
        return lines[-query.limit:]

    def _events(self, pod_name: str, query: LogQuery) -> list[str]:
        from kubernetes.client.exceptions import ApiException

        try:  # pod names come from the API (DNS subdomain names): nothing to escape in the field selector
            events = self.api.list_namespaced_event(self.namespace, field_selector=f"involvedObject.name={pod_name}")
        except ApiException:
            return []
        out = []
        for event in events.items:
            when, line = event_line(event)
            if when is None or query.start <= when <= query.end:
                out.append(line)
        return out
