"""Log sources: where an analysis gets the raw log lines of a service around an alert.

One protocol (``LogSource``), one module per system: files/stdin, Loki, Elasticsearch/OpenSearch,
Splunk, Kubernetes (pod logs and events), and a RabbitMQ stream for real-time ingestion. Every source
returns raw lines; lines that carry no timestamp of their own get the source's timestamp prefixed
(ISO-8601), so the log detectors can place them in time.
"""

from connectors.logsources.base import LogQuery, LogSource, fetch_service_logs, stamp

__all__ = ["LogQuery", "LogSource", "fetch_service_logs", "stamp"]
