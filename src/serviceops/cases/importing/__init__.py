"""Import cases: generic CSV with a mapping, event logs (one row per case update), Zendesk
ticket JSON and Freshdesk ticket CSV.

Two passes over the file, streaming: the first validates every row and collects what the
second needs (names of teams, staff, customers, categories); if any row is rejected, nothing
is written and a CSV names each rejected row, column and reason. The second pass writes in
batches inside one transaction, so a failure half-way leaves the database as it was.

The package: `mapping` (the mapping file, `ImportFailed` and the records both passes share:
`Problem`, `Row`, `Outcome`), `readers` (CSV and CSV.gz, Zendesk JSON), `validation` (raw rows
to typed rows, grouped by case), `writing` (building cases and their events, batched writes)
and `command` (`import_cases`, both passes, and `run_import_command`, the CLI command). The
built-in mappings stay in `cases/mappings/`.
"""

from serviceops.cases.importing.command import import_cases, run_import_command, write_problems
from serviceops.cases.importing.mapping import ImportFailed, Mapping, Outcome, Problem

__all__ = [
    "ImportFailed",
    "Mapping",
    "Outcome",
    "Problem",
    "import_cases",
    "run_import_command",
    "write_problems",
]
