"""Reports over incidents, analyses and feedback: pure computations on a ``Snapshot`` read from the Store.

- ``scope``: the time range and filters of a report;
- ``queries``: the few Store queries the reports need (``load_snapshot``);
- ``volume``, ``timing``, ``quality``, ``gameday``: the figures;
- ``reports``: the named reports served by ``/api/v1/reports/{name}``, the pages and the digest.
"""

from bot.reporting.export import rows_to_csv
from bot.reporting.queries import IncidentFacts, Snapshot, load_snapshot
from bot.reporting.reports import REPORT_NAMES, ReportOptions, build_report
from bot.reporting.scope import ReportScope

__all__ = ["REPORT_NAMES", "IncidentFacts", "ReportOptions", "ReportScope", "Snapshot", "build_report",
           "load_snapshot", "rows_to_csv"]
