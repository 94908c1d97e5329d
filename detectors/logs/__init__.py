"""Log analysis: format detection and parsing, masking, template mining, anomaly signals.

Entry points: ``detect_log_signals`` (the pipeline's call), ``TemplateMiner`` with its stores,
``parse_lines`` / ``detect_format`` for parsing.
"""

from detectors.logs.correlation import (
    annotate_onsets,
    incident_signature,
    leading_services,
    similar_incidents,
)
from detectors.logs.miner import Cluster, MinedLine, TemplateMiner
from detectors.logs.parsing import LogEvent, detect_format, parse_lines, resolve_format
from detectors.logs.persistence import JsonFileMinerStore, MemoryMinerStore, MinerStore
from detectors.logs.signals import LogComparison, detect_log_signals, detect_service_signals

__all__ = [
    "Cluster",
    "JsonFileMinerStore",
    "LogComparison",
    "LogEvent",
    "MemoryMinerStore",
    "MinedLine",
    "MinerStore",
    "TemplateMiner",
    "annotate_onsets",
    "detect_format",
    "detect_log_signals",
    "detect_service_signals",
    "incident_signature",
    "leading_services",
    "parse_lines",
    "resolve_format",
    "similar_incidents",
]
