"""Log sources: where an analysis gets the raw log lines of a service around an alert.

One protocol (``LogSource``, in ``base``); each system's source lives in its connector's package
(``connectors.files``, ``connectors.loki``, ``connectors.elasticsearch``, ``connectors.splunk``,
``connectors.kubernetes``), built through ``connectors.registry``; this package keeps the query, the shared
helpers, the fetch across sources (``registry``) and a RabbitMQ stream for real-time ingestion. Every source
returns raw lines; lines that carry no timestamp of their own get the source's timestamp prefixed
(ISO-8601), so the log detectors can place them in time.
"""

from connectors.logsources.base import LogQuery, LogSource, fetch_service_logs, stamp

__all__ = ["LogQuery", "LogSource", "fetch_service_logs", "stamp"]
