"""The alert's scope: what an investigation's tools may look at, fixed before the model says anything.

A tool argument outside it is refused with a reason the model reads (``Refused``): a service the
incident does not involve, another namespace, a time far from the alert, a range or step that would
pull too much. Nothing a tool returns can widen the scope: it is built from the incident and the
settings only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain import IncidentContext
from config.settings import LLMSettings

NAMESPACE_LABELS = ("namespace", "kubernetes_namespace", "k8s_namespace", "exported_namespace")
SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "job", "container", "deployment", "workload")


class Refused(Exception):
    """A tool argument leaves the alert's scope; ``str()`` is the reason given to the model."""


@dataclass(frozen=True)
class Scope:
    services: frozenset[str]
    namespace: str | None
    alert_time: datetime
    window: timedelta
    max_range: timedelta
    max_points: int

    @classmethod
    def for_context(cls, context: IncidentContext, settings: LLMSettings, *,
                    default_namespace: str | None = None) -> Scope:
        labels: dict[str, str] = dict(context.incident.labels)
        for alert in context.incident.alerts:
            labels = {**alert.labels, **labels}
        services = set(context.services)
        services.update(labels[k] for k in SERVICE_LABELS if labels.get(k))
        namespace = next((labels[k] for k in NAMESPACE_LABELS if labels.get(k)), None) or default_namespace
        return cls(services=frozenset(s for s in services if s), namespace=namespace,
                   alert_time=context.alert_time.astimezone(UTC),
                   window=timedelta(minutes=settings.tool_window_minutes),
                   max_range=timedelta(minutes=settings.tool_max_range_minutes),
                   max_points=settings.tool_max_points)

    def service(self, name: str) -> str:
        name = name.strip()
        if not name:
            raise Refused("a service is required: every query stays filtered on one of the incident's services")
        if name not in self.services:
            known = ", ".join(sorted(self.services)[:20]) or "none known"
            raise Refused(f"service {name!r} is outside this incident's scope (services: {known})")
        return name

    def in_namespace(self, namespace: str | None) -> str:
        if self.namespace is None:
            raise Refused("this incident names no Kubernetes namespace, so no Kubernetes object can be read")
        if namespace and namespace != self.namespace:
            raise Refused(f"namespace {namespace!r} is outside this incident's scope (only {self.namespace!r})")
        return self.namespace

    def time(self, when: datetime | None) -> datetime:
        if when is None:
            return self.alert_time
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if abs(when - self.alert_time) > self.window:
            raise Refused(f"{when.isoformat()} is more than {self.window.total_seconds() / 60:g} minutes from the "
                          f"alert ({self.alert_time.isoformat()})")
        return when.astimezone(UTC)

    def span(self, start: datetime | None, end: datetime | None, *,
             default: timedelta = timedelta(minutes=30)) -> tuple[datetime, datetime]:
        """A [start, end] range around the alert by default; refused when too long or too far."""
        start_at = self.time(start) if start is not None else None
        end_at = self.time(end) if end is not None else None
        if start_at is None:
            start_at = (end_at or self.alert_time) - default
        if end_at is None:
            end_at = start_at + 2 * default if start is not None else self.alert_time + default
        if end_at <= start_at:
            raise Refused("end must be after start")
        if end_at - start_at > self.max_range:
            raise Refused(f"a range of {(end_at - start_at).total_seconds() / 60:g} minutes is longer than the "
                          f"{self.max_range.total_seconds() / 60:g} allowed")
        for moment in (start_at, end_at):
            self.time(moment)
        return start_at, end_at

    def step(self, start: datetime, end: datetime, step_s: int | None) -> int:
        """The step in seconds: given, or the range in about 120 points; refused when too fine."""
        seconds = (end - start).total_seconds()
        if step_s is None:
            return max(15, int(seconds // 120))
        if step_s < 1:
            raise Refused("step_s must be at least 1 second")
        if seconds / step_s > self.max_points:
            raise Refused(f"step {step_s}s gives {seconds / step_s:.0f} points; at most {self.max_points} "
                          f"(use step_s >= {int(seconds // self.max_points) + 1})")
        return step_s
