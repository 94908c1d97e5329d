"""Metric analysis: change points, calibrated anomaly scores, root-cause ranking, forecasts.

Public entry point for the pipeline: :func:`detect_metric_signals`.
"""

from detectors.metrics.signals import anomaly_score, detect_metric_signals

__all__ = ["anomaly_score", "detect_metric_signals"]
