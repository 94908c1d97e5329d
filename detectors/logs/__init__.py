"""Log analysis: format detection and parsing, masking, template mining, anomaly signals.

Entry points: ``detect_log_signals`` (the pipeline's call), ``TemplateMiner`` with its stores,
``parse_lines`` / ``detect_format`` for parsing.
"""

from detectors.logs.miner import Cluster, MinedLine, TemplateMiner
from detectors.logs.parsing import LogEvent, detect_format, parse_lines, resolve_format
from detectors.logs.persistence import JsonFileMinerStore, MemoryMinerStore, MinerStore
from detectors.logs.signals import detect_log_signals, detect_service_signals

__all__ = [
    "Cluster",
    "JsonFileMinerStore",
    "LogEvent",
    "MemoryMinerStore",
    "MinedLine",
    "MinerStore",
    "TemplateMiner",
    "detect_format",
    "detect_log_signals",
    "detect_service_signals",
    "parse_lines",
    "resolve_format",
]
