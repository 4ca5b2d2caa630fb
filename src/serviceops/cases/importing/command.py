"""The command: `import_cases` runs both passes; `run_import_command` is `serviceops import
cases` (exit code, report of rejected rows)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from serviceops.cases.importing.mapping import ImportFailed, Mapping, Outcome, Problem
from serviceops.cases.importing.readers import ZENDESK_MAPPING, read_csv, read_zendesk
from serviceops.cases.importing.validation import RowParser, groups
from serviceops.cases.importing.writing import (
    BATCH,
    Built,
    Lookups,
    build_case,
    collect_names,
    write_batch,
)
from serviceops.cases.models import Case

# The mappings shipped with the package live in cases/mappings/, beside this package.
BUILTIN_MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"


def _source(path: Path, fmt: str, mapping_path: str | None) -> tuple[Mapping, callable]:
    if fmt == "zendesk":
        return ZENDESK_MAPPING, lambda: read_zendesk(path)
    if fmt == "freshdesk":
        mapping = Mapping.load(Path(mapping_path) if mapping_path
                               else BUILTIN_MAPPINGS / "freshdesk-tickets.yaml")
    else:
        if not mapping_path:
            raise ImportFailed("--format csv needs --mapping FILE (see "
                               "examples/mappings/README.md).")
        mapping = Mapping.load(Path(mapping_path))
    return mapping, lambda: read_csv(path, mapping)


def import_cases(*, path: Path, fmt: str, mapping_path: str | None = None,
                 dry_run: bool = False, progress: bool = False) -> Outcome:
    """Validate the whole file, then (unless `dry_run` or any row is rejected) write it all
    in one transaction. Returns what was found and done; raises ImportFailed if the file or
    mapping cannot be used at all."""
    from tqdm import tqdm

    if not path.exists():
        raise ImportFailed(f"There is no file {path}.")
    mapping, rows = _source(path, fmt, mapping_path)
    parser = RowParser(mapping)
    outcome = Outcome()
    names: dict[str, set] = {"team": set(), "assignee": set(), "customer": set(),
                             "category": set()}
    keys: set[str] = set()
    bar = tqdm(desc="Checking", unit=" rows", file=sys.stderr, disable=not progress)
    first_line: dict[str, int] = {}

    def parsed():
        for line, raw in rows():
            outcome.rows += 1
            bar.update()
            yield parser.parse(line, raw, outcome)

    for group in groups(parsed(), mapping, outcome):
        key = group[0].case_key
        if mapping.id_column and key in keys:
            outcome.reject(Problem(group[0].line, mapping.id_column, key,
                                   f"duplicate case id (first on line {first_line[key]})."))
            continue
        keys.add(key)
        first_line[key] = group[0].line
        outcome.cases += 1
        collect_names(group, names)
    bar.close()
    if mapping.id_column and keys:
        existing = _existing_refs(keys)
        for key in sorted(existing):
            outcome.reject(Problem(first_line[key], mapping.id_column, key,
                                   "a case with this id was already imported."))
    if outcome.problem_count or dry_run:
        return outcome
    now = timezone.now()
    bar = tqdm(total=outcome.rows, desc="Importing", unit=" rows", file=sys.stderr,
               disable=not progress)
    with transaction.atomic():
        look = Lookups()
        look.prepare(names, now)
        second = Outcome()
        batch: list[Built] = []
        events = 0

        def counted():
            for line, raw in rows():
                bar.update()
                yield parser.parse(line, raw, second)

        for group in groups(counted(), mapping, second):
            batch.append(build_case(group, look))
            if len(batch) >= BATCH:
                events += write_batch(batch)
                batch = []
        if batch:
            events += write_batch(batch)
        if second.problem_count:  # the file changed between the passes
            raise ImportFailed("The file changed while it was being imported; nothing was "
                               "imported. Run the import again.")
    bar.close()
    outcome.events = events
    return outcome


def _existing_refs(keys: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 900):
        chunk = ordered[start:start + 900]
        found |= set(Case.objects.filter(external_ref__in=chunk)
                     .values_list("external_ref", flat=True))
    return found


def write_problems(problems: list[Problem], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "column", "value", "reason"])
        for p in problems:
            writer.writerow([p.line, p.column, p.value, p.reason])


def run_import_command(args) -> int:
    """`serviceops import cases FILE ...`: returns 0 on success, 1 if rows were rejected,
    2 if the file or mapping cannot be used."""
    path = Path(args.file)
    try:
        outcome = import_cases(path=path, fmt=args.format, mapping_path=args.mapping,
                               dry_run=args.dry_run, progress=not args.no_progress)
    except ImportFailed as error:
        print(f"Import failed, nothing imported: {error}", file=sys.stderr)
        return 2
    if outcome.problem_count:
        report = Path(args.errors or "import-errors.csv")
        write_problems(outcome.problems, report)
        print(f"{outcome.problem_count:,} problem(s) in {outcome.rows:,} rows; nothing was "
              f"imported. Each is listed with its line number in {report}.", file=sys.stderr)
        for p in outcome.problems[:5]:
            print(f"  line {p.line}, {p.column or 'row'}: {p.reason}", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"Dry run: {outcome.rows:,} rows, {outcome.cases:,} cases, no problems. "
              "Nothing was written.")
        return 0
    print(f"Imported {outcome.cases:,} cases with {outcome.events:,} events from "
          f"{outcome.rows:,} rows.")
    return 0
