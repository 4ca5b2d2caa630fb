"""Complaint analysis (DO4 item 8): the read model behind the analysis page, its CSV export
and `benchmarks/bench_complaints.py`.

For the complaints received in a period (local dates, both included), within what a user may
see (`complaint_scope`) and optional filters, every figure is an aggregate query: volumes,
uphold rate, time to acknowledge and to resolve (median, 90th percentile), deadlines met,
complaints still open past their final deadline, repeat complainants, root causes and
recovery cost, each with the previous period beside it, plus one breakdown and the Paretos
of root causes and categories. No complaint is loaded into Python to compute a figure; the
rows that cross into Python are one per group, cause or gesture kind.

Times are elapsed (calendar) seconds from receipt, not business time: the deadlines already
carry the regime's business days, so "met" is judged against them exactly, and the durations
describe what the customer lived through.

Percentiles are continuous (interpolated), as `insights.sources`: PostgreSQL computes them
with `percentile_cont`; SQLite has no percentile function, so it reads the one column of
known durations, sorted by the database, and interpolates the same way.

The package: `figures` (period, filters, the SQL pieces and the counted figures), `groups`
(breakdowns), `causes` (repeat complainants, root causes, cost), `report` (the whole
analysis) and `drill` (the complaints behind a figure).
"""

from serviceops.complaints.analysis.causes import CauseTrend, Cost, Repeats
from serviceops.complaints.analysis.drill import DRILLS, analysis_drill, cause_labels
from serviceops.complaints.analysis.figures import (
    BREAKDOWNS,
    Figures,
    Filters,
    Period,
    complaints_in,
    quantile,
)
from serviceops.complaints.analysis.groups import GroupRow, bucket_starts, group_key, group_labels
from serviceops.complaints.analysis.report import Analysis, causes_in_words, complaint_analysis

__all__ = [
    "BREAKDOWNS", "DRILLS", "Analysis", "CauseTrend", "Cost", "Figures", "Filters", "GroupRow",
    "Period", "Repeats", "analysis_drill", "bucket_starts", "cause_labels", "causes_in_words",
    "complaint_analysis", "complaints_in", "group_key", "group_labels", "quantile",
]
