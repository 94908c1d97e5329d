"""Domain objects of Sherlog, in the incident responder's words.

They are plain pydantic models: every stage of the pipeline takes and returns them, storage maps
them to tables, surfaces render them. This module imports nothing else of ours but the vocabulary.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.links import safe_url
from bot.domain.vocabulary import Category, category_of


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(ts: datetime) -> datetime:
    """``ts`` with its own zone, or read as UTC when it has none (naive times in evidence are UTC)."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def stable_hash(*parts: str, length: int = 16) -> str:
    """A short hash of text parts that is the same in every process (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @classmethod
    def parse(cls, value: object) -> Severity:
        text = str(value or "").strip().lower()
        aliases = {
            "p1": cls.CRITICAL, "sev1": cls.CRITICAL, "critical": cls.CRITICAL, "crit": cls.CRITICAL,
            "page": cls.CRITICAL, "error": cls.HIGH, "p2": cls.HIGH, "sev2": cls.HIGH, "high": cls.HIGH,
            "major": cls.HIGH, "p3": cls.WARNING, "sev3": cls.WARNING, "warning": cls.WARNING,
            "warn": cls.WARNING, "medium": cls.WARNING, "minor": cls.WARNING, "p4": cls.INFO,
            "p5": cls.INFO, "low": cls.INFO, "info": cls.INFO, "none": cls.INFO,
        }
        return aliases.get(text, cls.WARNING)


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"


class Alert(_Model):
    """One notification from a monitoring tool, normalised from the vendor's payload."""

    id: str = Field(default_factory=lambda: new_id("alert"))
    source: str = "generic"
    fingerprint: str = ""
    status: AlertStatus = AlertStatus.FIRING
    name: str = ""
    service: str | None = None
    severity: Severity = Severity.WARNING
    summary: str = ""
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(default_factory=utcnow)
    ends_at: datetime | None = None
    generator_url: str | None = None
    external_id: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("generator_url", mode="before")
    @classmethod
    def _http_link_only(cls, value: Any) -> Any:
        """A link from outside is kept only when it is http(s) (never ``javascript:`` and the like)."""
        return safe_url(value) if isinstance(value, str) else value

    def compute_fingerprint(self) -> str:
        """Stable identity from labels (never from text that varies between notifications)."""
        if self.fingerprint:
            return self.fingerprint
        stable = {k: v for k, v in sorted(self.labels.items()) if k not in {"value", "instance_value"}}
        if not stable:
            stable = {"alertname": self.name, "service": self.service or ""}
        return stable_hash(self.source, *(f"{k}={v}" for k, v in stable.items()))


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Incident(_Model):
    id: str = Field(default_factory=lambda: new_id("inc"))
    fingerprint: str = ""
    title: str = ""
    service: str | None = None
    severity: Severity = Severity.WARNING
    status: IncidentStatus = IncidentStatus.OPEN
    source: str = "generic"
    labels: dict[str, str] = Field(default_factory=dict)
    alerts: list[Alert] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    confirmed_service: str | None = None
    confirmed_kind: str | None = None
    resolution: str | None = None
    external_refs: dict[str, str] = Field(default_factory=dict)
    is_early_warning: bool = False


class EvidenceType(StrEnum):
    ALERT = "alert"
    LOG = "log"
    METRIC = "metric"
    CHANGE = "change"
    TOPOLOGY = "topology"
    INCIDENT = "incident"
    RUNBOOK = "runbook"
    KUBERNETES = "kubernetes"


class Evidence(_Model):
    """A piece of evidence a hypothesis rests on. ``id`` is stable inside one analysis."""

    id: str
    type: EvidenceType
    summary: str
    service: str | None = None
    ts: datetime | None = None
    detail: str | None = None
    url: str | None = None
    weight: float = 0.0


class SignalSource(StrEnum):
    """Which kind of evidence a signal was read from. Stored and serialised as its value (``"logs"``)."""

    LOGS = "logs"
    METRICS = "metrics"
    CHANGES = "changes"  # deploys, config changes, flags, rollouts
    KUBERNETES = "kubernetes"  # object states and events read from the cluster
    ALERT = "alert"  # the alert itself (its labels and text)
    RETRIEVAL = "retrieval"  # past incidents and runbooks


class Signal(_Model):
    """Something a detector found unusual: a log template surge, a metric change point, a deploy."""

    id: str = Field(default_factory=lambda: new_id("sig"))
    source: SignalSource
    detector: str
    service: str | None = None
    kind: str | None = None  # a vocabulary kind when the signal makes it clear, else a symptom kind
    title: str
    score: float = Field(default=0.0, ge=0.0, le=1.0)
    started_at: datetime | None = None
    metric: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)


class Hypothesis(_Model):
    rank: int = 0
    service: str
    kind: str
    title: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)
    features: dict[str, float] = Field(default_factory=dict)
    source: str = "ranker"  # "ranker" or "llm"

    @property
    def category(self) -> Category:
        return category_of(self.kind)


class CategoryAssessment(_Model):
    label: str = Category.UNKNOWN.value
    confidence: float = 0.0


class TeamLabel(_Model):
    """A label of the team's own taxonomy (``sherlog taxonomy train``) with the model's score."""

    label: str
    score: float = Field(ge=0.0, le=1.0)


class Recommendation(_Model):
    text: str
    source: str  # "runbook", "incident", "kind-check"
    url: str | None = None
    score: float = 0.0


class SimilarIncident(_Model):
    id: str
    title: str
    score: float
    resolution: str | None = None
    url: str | None = None
    root_cause_service: str | None = None
    root_cause_kind: str | None = None
    why: str | None = None


class Analysis(_Model):
    id: str = Field(default_factory=lambda: new_id("ana"))
    incident_id: str
    created_at: datetime = Field(default_factory=utcnow)
    category: CategoryAssessment = Field(default_factory=CategoryAssessment)
    team_labels: list[TeamLabel] = Field(default_factory=list)  # empty when no taxonomy is configured
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    similar_incidents: list[SimilarIncident] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)
    summary: str = ""
    enough_evidence: bool = True
    lacked: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    llm: dict[str, Any] = Field(default_factory=dict)

    @property
    def top(self) -> Hypothesis | None:
        return self.hypotheses[0] if self.hypotheses else None


class Vote(StrEnum):
    UP = "up"
    DOWN = "down"
    FIXED = "fixed"
    VIEWED = "viewed"  # opened the evidence of a hypothesis: interest, neither agreement nor disagreement


class Feedback(_Model):
    id: str = Field(default_factory=lambda: new_id("fb"))
    incident_id: str
    analysis_id: str | None = None
    service: str | None = None
    kind: str | None = None
    document_id: str | None = None
    vote: Vote
    user: str = "unknown"
    surface: str = "api"
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class VoteCount(_Model):
    """``count`` pieces of feedback alike in what retrieval reads of them: the document voted on (else, for an
    incident-level "fixed", the incident), the vote and the service it was about (``Store.feedback_votes``)."""

    incident_id: str = ""  # set only when ``document_id`` is not
    document_id: str | None = None
    vote: Vote
    service: str | None = None
    count: int = 1


class DocumentType(StrEnum):
    INCIDENT = "incident"
    RUNBOOK = "runbook"


class Document(_Model):
    """A past incident or a runbook section, as retrieval stores it."""

    id: str
    type: DocumentType
    title: str
    text: str
    url: str | None = None
    services: list[str] = Field(default_factory=list)
    category: str | None = None
    kinds: list[str] = Field(default_factory=list)
    root_cause_service: str | None = None
    root_cause_kind: str | None = None
    resolution: str | None = None
    date: datetime | None = None
    heading_path: list[str] = Field(default_factory=list)
    source: str = "markdown"
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return stable_hash(self.title, self.text, self.resolution or "", ",".join(self.services))


# ---- inputs of one analysis ---------------------------------------------------------------


class LogRecord(_Model):
    """One parsed log event (a multi-line stack trace is one record)."""

    line_no: int
    raw: str
    message: str
    service: str
    ts: datetime | None = None
    level: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class MetricSeries(_Model):
    service: str
    metric: str
    labels: dict[str, str] = Field(default_factory=dict)
    timestamps: list[datetime] = Field(default_factory=list)
    values: list[float] = Field(default_factory=list)


class ChangeEvent(_Model):
    ts: datetime
    kind: str  # deploy, config, feature_flag, k8s, scale, ...
    service: str | None = None
    text: str = ""


class KubeText(_Model):
    """Raw Kubernetes output as a responder saved it (``kubectl describe``, ``get -o yaml|json``, ``get events``,
    ``logs [--previous]``) or as live collection fetched it; the content says which it is."""

    name: str  # the file name in the bundle, or where live collection got it ("live:pod/ns/name")
    text: str


class IncidentContext(_Model):
    """Everything an analysis may use. All but the incident are optional; ``lacked`` says what was missing."""

    incident: Incident
    logs: dict[str, list[str]] = Field(default_factory=dict)  # service -> raw lines
    metrics: list[MetricSeries] = Field(default_factory=list)
    events: list[ChangeEvent] = Field(default_factory=list)
    topology: dict[str, list[str]] = Field(default_factory=dict)  # service -> its dependencies
    history: list[Document] = Field(default_factory=list)  # bundle-local history (indexed on the fly)
    kubernetes: list[KubeText] = Field(default_factory=list)  # raw kubectl / API output

    @property
    def alert_time(self) -> datetime:
        times = [a.starts_at for a in self.incident.alerts]
        return min(times) if times else (self.incident.started_at or self.incident.created_at)

    @property
    def services(self) -> list[str]:
        names: set[str] = set(self.logs) | {s.service for s in self.metrics} | set(self.topology)
        for deps in self.topology.values():
            names.update(deps)
        names.update(e.service for e in self.events if e.service)
        if self.incident.service:
            names.add(self.incident.service)
        return sorted(names)


class GroundTruth(_Model):
    category: str
    root_cause_service: str
    root_cause_kind: str
    keywords: list[str] = Field(default_factory=list)
