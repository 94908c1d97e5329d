"""Prometheus metrics of the pipeline, on a registry passed in (tests build a fresh one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class PipelineMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.alerts_received = Counter(
            "sherlog_alerts_received", "Alerts accepted by intake", registry=self.registry
        )
        self.analyses = Counter("sherlog_analyses", "Analyses completed", registry=self.registry)
        self.analysis_failures = Counter(
            "sherlog_analysis_failures", "Analyses that raised", registry=self.registry
        )
        self.stage_seconds = Histogram(
            "sherlog_stage_seconds",
            "Time spent per pipeline stage",
            ["stage"],
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.rejected_payloads = Counter(
            "sherlog_rejected_payloads", "Intake payloads refused", ["reason"], registry=self.registry
        )
