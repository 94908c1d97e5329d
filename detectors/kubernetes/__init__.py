"""Kubernetes objects as evidence: kubectl output (describe, get -o yaml|json, get events, rollout history,
logs) and live API objects parsed by content into small typed findings, matched against a table of documented
reasons (``rules.py``), and turned into decisive signals named per docs/causes.md.

Entry points: ``detect_kubernetes_signals`` (the detector), ``container_logs`` (log text by workload for the log
detectors), ``parse_kube_text`` / ``parse_all`` (the parsers), ``match_rule`` / ``RULES`` (the table).
"""

from detectors.kubernetes.container_logs import container_logs
from detectors.kubernetes.detector import detect_kubernetes_signals, gather_findings
from detectors.kubernetes.model import Findings
from detectors.kubernetes.parse import parse_all, parse_kube_text
from detectors.kubernetes.rules import RULES, Rule, match_rule

__all__ = [
    "RULES",
    "Findings",
    "Rule",
    "container_logs",
    "detect_kubernetes_signals",
    "gather_findings",
    "match_rule",
    "parse_all",
    "parse_kube_text",
]
