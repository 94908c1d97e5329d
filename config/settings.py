"""Settings: one pydantic-settings schema with a section per concern.

Sources, lowest to highest precedence:
1. the defaults below, documented in ``config/sherlog.yaml``;
2. a user YAML file (``--config PATH`` or ``SHERLOG_CONFIG``);
3. environment variables ``SHERLOG__SECTION__KEY`` (for example ``SHERLOG__STORAGE__URL``).

This is the only module that reads the environment. Secrets are ``SecretStr`` and are masked
whenever settings are printed.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.domain.errors import ConfigError
from config.masking import mask_urls
from connectors.influxdb.settings import InfluxDBSettings
from connectors.kubernetes.settings import KubernetesSettings
from connectors.opsgenie.settings import OpsgenieSettings
from connectors.pagerduty.settings import PagerDutySettings
from connectors.plugins import SettingsSection
from connectors.prometheus.settings import PrometheusSettings
from connectors.prometheus.settings import placeholder_misuse as promql_placeholder_misuse

DEFAULT_CONFIG_FILE = Path(__file__).with_name("sherlog.yaml")


_Section = SettingsSection  # every section forbids unknown keys


class StorageSettings(_Section):
    url: str | None = None  # default: sqlite file under data_dir
    echo: bool = False
    schema_name: str | None = None  # PostgreSQL schema (tests use one per run)


class RetrievalSettings(_Section):
    backend: Literal["embedded", "http", "memory"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    collection: str = "sherlog"
    model: str = "all-MiniLM-L6-v2"
    batch_size: int = Field(default=64, ge=1)
    top_k: int = Field(default=5, ge=1, le=100)
    dense_weight: float = Field(default=1.0, ge=0)
    bm25_weight: float = Field(default=1.0, ge=0)
    feedback_weight: float = Field(default=0.15, ge=0)
    chroma_path: Path | None = None  # embedded Chroma directory; default: data_dir / "chroma"
    chroma_ssl: bool = False
    fusion: Literal["rrf", "weighted"] = "weighted"  # bench.retrieval compares both
    rrf_k: int = Field(default=60, ge=1)
    candidates: int = Field(default=50, ge=1, le=1000)  # per list (dense, BM25) before fusion
    recency_weight: float = Field(default=0.03, ge=0)
    service_weight: float = Field(default=0.1, ge=0)  # boost when the query names the document's service
    embed_threads: int = Field(default=1, ge=0)  # torch intra-op threads of the embedder (0: torch default)
    embed_max_tokens: int | None = Field(default=None, ge=8, le=512)  # word pieces read per text (None: model's 256)
    embed_precision: Literal["float32", "int8"] = "float32"  # int8: dynamic quantisation (bench.retrieval_scale)
    # onnx (default): ONNX Runtime, float32 only, exported once under <data_dir>/models; once exported, a new
    # process loads no torch at all (retrieval/embedder.py). torch: sentence-transformers on torch.
    embed_backend: Literal["torch", "onnx"] = "onnx"
    recency_half_life_days: float = Field(default=365.0, gt=0)
    # from this many documents, a change rebuilds the BM25 / filter indexes in a background thread and
    # searches keep the previous ones meanwhile (a new document is found by meaning until then);
    # below it, or at 0, the next search rebuilds them first
    background_rebuild_docs: int = Field(default=10_000, ge=0)


LLMProvider = Literal["openai", "azure_openai", "anthropic", "bedrock", "google_vertexai", "ollama",
                      "openai_compatible"]


class LLMSettings(_Section):
    enabled: bool = False
    provider: LLMProvider = "openai"  # connectors/llm.py: which LangChain chat model (and optional extra)
    base_url: str = "https://api.openai.com/v1"  # openai / openai_compatible / ollama URL; Azure: the endpoint
    model: str = "gpt-4o-mini"  # Azure: the deployment name; Bedrock: the model id
    api_key: SecretStr | None = None
    api_version: str | None = None  # azure_openai only, e.g. 2024-10-21
    region: str | None = None  # bedrock region / google_vertexai location
    project: str | None = None  # google_vertexai project
    timeout_s: float = Field(default=20.0, gt=0)  # per model call
    max_retries: int = Field(default=1, ge=0, le=10)  # per model call, on 429 / 5xx / connection errors
    max_tokens: int = Field(default=800, ge=16)
    context_tokens: int = Field(default=6000, ge=256)
    temperature: float = Field(default=0.0, ge=0, le=2)
    price_per_1k_input: float = Field(default=0.0, ge=0)
    price_per_1k_output: float = Field(default=0.0, ge=0)
    # investigation with read-only tools (bot/investigation): off unless asked for
    investigate: bool = False
    max_steps: int = Field(default=6, ge=1, le=50)  # model turns that may call tools
    max_tool_calls: int = Field(default=12, ge=1, le=100)
    max_wall_s: float = Field(default=90.0, gt=0)  # the whole investigation, model calls and tools
    max_total_tokens: int = Field(default=60_000, ge=1000)  # input + output over every call
    tool_output_chars: int = Field(default=4000, ge=200, le=50_000)  # what one tool result may show the model
    tool_window_minutes: int = Field(default=360, ge=5)  # tools may look this far before/after the alert
    tool_max_range_minutes: int = Field(default=180, ge=1)  # longest metrics / logs range one call may ask
    tool_max_points: int = Field(default=720, ge=10, le=11_000)  # metrics: range / step at most this


class SlackSettings(_Section):
    enabled: bool = False
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None  # Socket Mode
    signing_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    incident_channel: str = "#incidents"
    routes: dict[str, str] = Field(default_factory=dict)  # service or severity -> channel
    socket_mode: bool = False
    dashboard_url: str | None = None  # "more" links of shortened messages: <dashboard_url>/incidents/<id>
    timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)  # per API call, on 429 / 5xx / connection errors
    retry_interval_s: float = Field(default=30.0, gt=0)  # how often failed auto-posts are retried
    retry_backoff_s: float = Field(default=5.0, ge=0)  # first back-off of a failed post, doubled per attempt
    max_post_attempts: int = Field(default=50, ge=1)
    post_lease_s: float = Field(default=120.0, ge=1)  # a post left "posting" by a dead process is retried after this


class TeamsSettings(_Section):
    enabled: bool = False
    app_id: str | None = None
    app_password: SecretStr | None = None
    tenant_id: str | None = None
    channel_id: str | None = None
    dashboard_url: str | None = None
    retry_interval_s: float = Field(default=30.0, gt=0)
    auth_timeout_s: float = Field(default=10.0, gt=0)  # Bot Framework token validation (OpenID keys fetch)


class LogsSettings(_Section):
    loki_url: str | None = None
    elasticsearch_url: str | None = None
    splunk_url: str | None = None
    splunk_token: SecretStr | None = None
    window_minutes: int = Field(default=30, ge=1)
    max_lines: int = Field(default=200_000, ge=100)
    after_minutes: int = Field(default=5, ge=0)  # also read this long after the alert
    log_dir: str | None = None  # files source: <log_dir>/<service>.log
    loki_selector: str = "{app={service}}"  # LogQL; {service} unquoted, filled in as an escaped string
    elasticsearch_index: str = "logs-*"
    elasticsearch_service_field: str = "service.name"  # a term filter on this field (exact value)
    splunk_search: str = "search index=* service={service}"  # SPL; {service} unquoted, filled in quoted
    kubernetes_enabled: bool = False  # pod logs + events through the in-cluster / kubeconfig credentials
    kubernetes_namespace: str = "default"
    kubernetes_selector: str = "app={service}"  # label selector; only valid label values are filled in
    semantic_lines: bool = True  # error lines no rule reads are matched by meaning (the retrieval embedder)

    @field_validator("loki_selector", "splunk_search")
    @classmethod
    def _placeholder_unquoted(cls, template: str, info: ValidationInfo) -> str:
        example = "{app={service}}" if info.field_name == "loki_selector" else "search index=* service={service}"
        if "{{" in re.sub(r'"(?:[^"\\]|\\.)*"|`[^`]*`', "", template):
            raise ValueError(f"braces are no longer doubled and {{service}} is written without quotes, e.g. {example}")
        problem = promql_placeholder_misuse(template)
        if problem:
            raise ValueError(f"{{service}} is {problem}; write it without quotes as a whole value, e.g. {example} "
                             "(Sherlog fills it in as a quoted, escaped string)")
        return template

    @field_validator("kubernetes_selector")
    @classmethod
    def _placeholder_whole_label_value(cls, template: str) -> str:
        if re.search(r"[-_.A-Za-z0-9/\"']\{service\}|\{service\}[-_.A-Za-z0-9/\"']", template):
            raise ValueError("{service} must stand as a whole label value, e.g. app={service} or app in ({service})")
        return template


class RabbitMQSettings(_Section):
    enabled: bool = False
    url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    alerts_queue: str = "sherlog.alerts"
    logs_queue: str = "sherlog.logs"
    prefetch: int = Field(default=50, ge=1)
    broker: Literal["rabbitmq", "kafka"] = "rabbitmq"  # the worker's queue; Kafka uses kafka_* below
    batch_size: int = Field(default=200, ge=1)  # alerts persisted per transaction by a worker
    max_redeliveries: int = Field(default=3, ge=0)  # then the message goes to the dead-letter queue
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_group: str = "sherlog"


class SMTPSettings(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    sender: str = "sherlog@localhost"
    recipients: list[str] = Field(default_factory=list)
    timeout_s: float = Field(default=10.0, gt=0)
    retry_interval_s: float = Field(default=60.0, gt=0)  # failed incident mails are retried this often
    use_ssl: bool = False  # SMTPS (port 465); starttls upgrades a plain connection instead
    dashboard_url: str | None = None
    notify_severities: list[str] = Field(default_factory=lambda: ["critical", "high"])
    early_warnings: bool = True


class WatchSettings(_Section):
    """One series the early-warning job watches (``prediction.watches``)."""

    name: str
    service: str = "unknown"
    query: str | None = None  # PromQL (Prometheus source)
    csv: Path | None = None  # or a CSV file with columns timestamp,value
    metric: str | None = None  # metric name (default: name)
    check: Literal["exhaustion", "expiry", "burn_rate"] = "exhaustion"
    limit: float | None = None  # default: implied by the metric name (ratio 1, percent 100, free 0)
    direction: Literal["up", "down"] | None = None  # towards the limit; default from the name
    slo: float | None = Field(default=None, gt=0, lt=1)  # burn_rate: e.g. 0.999
    burn_threshold: float = Field(default=14.4, gt=0)  # 2% of a 30-day budget in one hour
    cause_kind: str | None = None  # vocabulary kind; default from the metric name (disk_full, ...)


class PredictionSettings(_Section):
    enabled: bool = False
    interval_minutes: float = Field(default=5.0, gt=0)
    horizon_hours: float = Field(default=24.0, gt=0)  # warn when a limit is forecast within this
    lookback_hours: float = Field(default=6.0, gt=0)
    step: str = "60s"
    confidence: float = Field(default=0.9, gt=0, lt=1)
    renotify_hours: float = Field(default=6.0, ge=0)  # same warning again only after this (or if much sooner)
    watches: list[WatchSettings] = Field(default_factory=list)


class IntakeSettings(_Section):
    token: SecretStr | None = None  # bearer token or ?token= required on intake endpoints when set
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    group_window_minutes: int = Field(default=30, ge=1)
    cascade_window_minutes: int = Field(default=10, ge=0)  # topology/label joins: this close to the start
    join_threshold: float = Field(default=0.5, gt=0, le=1)  # join score an alert needs to join an open incident
    flap_window_minutes: int = Field(default=10, ge=0)  # a re-fire this soon after a resolve is flapping
    flap_threshold: int = Field(default=3, ge=1)  # flaps after which reopen/resolve go silent
    label_similarity: float = Field(default=0.6, gt=0, le=1)  # share of identifying labels to correlate
    ignored_labels: list[str] | None = None  # labels that never correlate (default: env, cluster, region, ...)
    topology: dict[str, list[str]] = Field(default_factory=dict)  # service -> dependencies, for correlation
    learn_topology: bool = True  # learn edges from mesh labels (source_service/destination_service, ...)
    mappings: dict[str, dict[str, Any]] = Field(default_factory=dict)  # generic sources: name -> mapping
    grafana_annotations: bool = False  # write incident start/resolution annotations to Grafana
    grafana_api_token: SecretStr | None = None  # Grafana service-account token (Editor) for annotations
    writeback: bool = True  # post analyses to PagerDuty/Opsgenie incidents they came from
    writeback_lease_s: float = Field(default=120.0, ge=1)  # a write whose process died is looked up and retried after this
    writeback_retry_interval_s: float = Field(default=30.0, gt=0)  # look for failed write-backs this often
    writeback_max_attempts: int = Field(default=8, ge=1)  # then the write is left failed (logged) with its reason


class AnalysisSettings(_Section):
    """The durable analysis queue (a database table) and the runners that drain it."""

    workers: int = Field(default=2, ge=1, le=64)  # analyses at a time in one process
    poll_interval_s: float = Field(default=0.5, gt=0, le=60)  # look for work in other processes' rows this often
    lease_s: float = Field(default=60.0, ge=1)  # a claimed row returns to the queue this long after its runner died
    max_attempts: int = Field(default=5, ge=1)  # then the row is kept as dead with its last error
    retry_after_s: float = Field(default=5.0, ge=0)  # wait before retrying a failed analysis
    stop_grace_s: float = Field(default=5.0, ge=0, le=10)  # a graceful stop lets analyses end this long, then hands the rest back


class OutboxSettings(_Section):
    """The transactional outbox: events that cross processes (chat posts, write-back, e-mail)."""

    poll_interval_s: float = Field(default=0.5, gt=0, le=60)  # SQLite (and a missed NOTIFY): look this often
    listen: bool = True  # PostgreSQL: wake on NOTIFY sherlog_outbox instead of waiting for the poll
    lease_s: float = Field(default=60.0, ge=1)  # a claimed event returns to the outbox this long after its relay died
    max_attempts: int = Field(default=5, ge=1)
    retry_after_s: float = Field(default=5.0, ge=0)
    batch_size: int = Field(default=50, ge=1, le=1000)
    stop_grace_s: float = Field(default=5.0, ge=0, le=10)  # a graceful stop lets deliveries end this long, then hands the rest back


class SchedulerSettings(_Section):
    """The scheduler role: one holder of the database lease runs early warnings, the digest and retries."""

    lease_s: float = Field(default=30.0, ge=2)  # a dead scheduler's jobs move to a standby after this
    retry_interval_s: float = Field(default=60.0, ge=1)  # chat/e-mail delivery retries


class AuthSettings(_Section):
    """Dashboard and API access. With no token set, only loopback clients are answered (first run)."""

    admin_token: SecretStr | None = None  # full access: reads, feedback, ack, resolve, re-analysis
    read_token: SecretStr | None = None  # read-only: dashboard, reports, incidents
    session_secret: SecretStr | None = None  # signs login cookies; default: derived from the tokens
    open_on_loopback: bool = True  # no token configured: loopback clients get admin access, others 403
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    cookie_secure: bool = False  # set true behind HTTPS so the session cookie is never sent in clear


class DigestSettings(_Section):
    enabled: bool = False  # weekly reliability digest by e-mail (needs smtp.enabled and smtp.recipients)
    day_of_week: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=9, ge=0, le=23)
    timezone: str = "UTC"


class TaxonomySettings(_Section):
    """Team labels: a taxonomy learned from a team's labelled history (``sherlog taxonomy train``)."""

    enabled: bool = False  # label each analysis with the team's own categories
    model_path: Path | None = None  # the file written by `sherlog taxonomy train --out`
    min_score: float = Field(default=0.0, ge=0, le=1)  # shown only at or above this score (and the label's threshold)


class Settings(BaseSettings):
    """Effective Sherlog configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SHERLOG__", env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    data_dir: Path = Path(".sherlog")
    log_level: str = "INFO"
    storage: StorageSettings = Field(default_factory=StorageSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    opsgenie: OpsgenieSettings = Field(default_factory=OpsgenieSettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)
    influxdb: InfluxDBSettings = Field(default_factory=InfluxDBSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    rabbitmq: RabbitMQSettings = Field(default_factory=RabbitMQSettings)
    smtp: SMTPSettings = Field(default_factory=SMTPSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    prediction: PredictionSettings = Field(default_factory=PredictionSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    taxonomy: TaxonomySettings = Field(default_factory=TaxonomySettings)
    # third-party connectors' sections (``plugins.<name>``), validated by each connector's settings model
    # (``connectors.registry.ConnectorRegistry.check_settings``); the built-in connectors' sections are above
    plugins: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # service -> the services it depends on (calls); used to propagate blame and to fetch neighbours' evidence
    topology: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the merged YAML files, passed by load_settings) < env
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{(self.data_dir / 'sherlog.db').as_posix()}"

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, every secret replaced by ``'**********'`` and the credentials
        inside every URL setting (userinfo password, credential query parameters) by ``***``."""
        data: dict[str, Any] = mask_urls(self.model_dump(mode="json"))  # SecretStr dumps as '**********'
        return data


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from e
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, not {type(data).__name__}")
    return data


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(root)"
        env = "SHERLOG__" + "__".join(str(p).upper() for p in item["loc"])
        secret = any(w in key.lower() for w in ("token", "password", "secret", "key", "url"))
        got = "<hidden>" if secret else repr(item.get("input"))
        lines.append(f"{key}: {item['msg']} (got {got}; env var {env})")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from the default YAML, the user's file and the environment.

    Raises ``ConfigError`` with one message naming every wrong key.
    """
    data = _read_yaml(DEFAULT_CONFIG_FILE) if DEFAULT_CONFIG_FILE.exists() else {}
    user_path = path or os.environ.get("SHERLOG_CONFIG")
    if user_path:
        data = _merge(data, _read_yaml(Path(user_path)))
    data = _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as e:
        raise ConfigError(_describe(e)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (FastAPI dependency; tests override it)."""
    return load_settings()
