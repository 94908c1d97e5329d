"""Reports over incidents, analyses and feedback, computed with bounded memory.

- ``scope``: the time range and filters of a report;
- ``queries``: the few Store queries the reports need (keyset pages of incidents with their analyses,
  feedback counted in the database; ``load_snapshot`` reads a range whole, the reference the paged path is tested against);
- ``fold``: a report is an accumulator fed one page of incidents at a time (``run_folds``);
- ``volume``, ``timing``, ``quality``, ``gameday``: the figures;
- ``reports``: the named reports served by ``/api/v1/reports/{name}``, the pages and the digest.
"""

from bot.reporting.export import rows_to_csv
from bot.reporting.queries import IncidentFacts, Snapshot, load_snapshot
from bot.reporting.reports import REPORT_NAMES, ReportOptions, build_report, build_reports
from bot.reporting.scope import ReportScope

__all__ = ["REPORT_NAMES", "IncidentFacts", "ReportOptions", "ReportScope", "Snapshot", "build_report",
           "build_reports", "load_snapshot", "rows_to_csv"]
