"""Import cases: generic CSV with a mapping, event logs (one row per case update), Zendesk
ticket JSON and Freshdesk ticket CSV.

Two passes over the file, streaming: the first validates every row and collects what the
second needs (names of teams, staff, customers, categories); if any row is rejected, nothing
is written and a CSV names each rejected row, column and reason. The second pass writes in
batches inside one transaction, so a failure half-way leaves the database as it was.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.db import transaction
from django.utils import timezone

from serviceops.cases.choices import Channel, EventKind, Level, Priority, Status, priority_for
from serviceops.cases.facts import case_facts_refresh
from serviceops.cases.models import Case, CaseEvent, Category
from serviceops.customers.models import Customer
from serviceops.people.models import Staff, Team

BUILTIN_MAPPINGS = Path(__file__).resolve().parent / "mappings"
TARGETS = {
    "subject", "description", "channel", "status", "impact", "urgency", "priority",
    "category", "subcategory", "team", "assignee", "customer", "customer_email", "tags",
    "opened_at", "resolved_at", "closed_at", "reopen_count",
}
DATE_TARGETS = ("opened_at", "resolved_at", "closed_at")
CHOICES = {
    "status": set(Status.values), "channel": set(Channel.values),
    "impact": set(Level.values), "urgency": set(Level.values), "priority": set(Priority.values),
}
BATCH = 2000
MAX_REPORTED = 10_000


class ImportFailed(Exception):
    """The file or the mapping cannot be used at all (before any row is looked at)."""


@dataclass
class Mapping:
    """How the columns of a file become cases (see examples/mappings/README.md)."""

    kind: str  # "cases" (one row per case) or "event_log" (one row per update)
    columns: dict[str, str]
    id_column: str = ""
    event_time: str = ""
    sequence: str = ""
    subject_template: str = ""
    date_formats: tuple[str, ...] = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
    timezone: str = "Europe/London"
    missing: frozenset[str] = frozenset({""})
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    encoding: str = "utf-8-sig"
    delimiter: str = ","

    @classmethod
    def load(cls, path: Path) -> Mapping:
        try:
            raw = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise ImportFailed(f"Cannot read the mapping {path}: {error}") from None
        if not isinstance(raw, dict):
            raise ImportFailed(f"The mapping {path} is not a YAML/JSON object.")
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, *, source: str = "mapping") -> Mapping:
        known = {"kind", "columns", "id", "event_time", "sequence", "subject_template",
                 "date_formats", "timezone", "missing", "values", "encoding", "delimiter"}
        unknown = set(raw) - known
        if unknown:
            raise ImportFailed(f"{source}: unknown keys {sorted(unknown)} (allowed: "
                               f"{sorted(known)}).")
        columns = raw.get("columns") or {}
        bad_targets = set(columns) - TARGETS
        if bad_targets:
            raise ImportFailed(f"{source}: cannot map to {sorted(bad_targets)}; fields are "
                               f"{sorted(TARGETS)}.")
        kind = raw.get("kind", "cases")
        if kind not in ("cases", "event_log"):
            raise ImportFailed(f"{source}: kind must be 'cases' or 'event_log', not {kind!r}.")
        if kind == "event_log" and not (raw.get("id") and raw.get("event_time")):
            raise ImportFailed(f"{source}: an event_log mapping needs 'id' and 'event_time'.")
        if "subject" not in columns and not raw.get("subject_template"):
            raise ImportFailed(f"{source}: map a 'subject' column or give a subject_template.")
        try:
            ZoneInfo(raw.get("timezone", "Europe/London"))
        except (ZoneInfoNotFoundError, ValueError):
            raise ImportFailed(f"{source}: unknown timezone {raw.get('timezone')!r}.") from None
        formats = raw.get("date_formats") or cls.date_formats
        values = {target: {str(k): v for k, v in (table or {}).items()}
                  for target, table in (raw.get("values") or {}).items()}
        return cls(
            kind=kind, columns=dict(columns), id_column=raw.get("id", ""),
            event_time=raw.get("event_time", ""), sequence=raw.get("sequence", ""),
            subject_template=raw.get("subject_template", ""),
            date_formats=tuple(formats if isinstance(formats, list) else [formats]),
            timezone=raw.get("timezone", "Europe/London"),
            missing=frozenset(str(m) for m in raw.get("missing", [""])) | {""},
            values=values, encoding=raw.get("encoding", "utf-8-sig"),
            delimiter=raw.get("delimiter", ","),
        )

    def needed_columns(self) -> set[str]:
        needed = set(self.columns.values())
        needed |= {c for c in (self.id_column, self.event_time, self.sequence) if c}
        if self.subject_template:
            needed |= {name for _, name, _, _ in string.Formatter().parse(self.subject_template)
                       if name}
        return needed


@dataclass
class Problem:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class Row:
    """One validated row: typed values of the mapped fields."""

    line: int
    case_key: str
    at: datetime | None
    sequence: int
    values: dict


@dataclass
class Outcome:
    rows: int = 0
    cases: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def reject(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)


# --- reading ---------------------------------------------------------------------------

def _open_text(path: Path, encoding: str) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def read_csv(path: Path, mapping: Mapping) -> Iterator[tuple[int, dict]]:
    """Yield (line number, row) from a CSV or CSV.gz file, checking the mapped columns exist."""
    try:
        with _open_text(path, mapping.encoding) as handle:
            reader = csv.reader(handle, delimiter=mapping.delimiter)
            try:
                header = next(reader)
            except StopIteration:
                raise ImportFailed(f"{path} is empty.") from None
            missing = mapping.needed_columns() - set(header)
            if missing:
                raise ImportFailed(
                    f"The mapping names columns that {path.name} does not have: "
                    f"{sorted(missing)}. Its columns are: {', '.join(header)}."
                )
            width = len(header)
            for row in reader:
                if len(row) != width:
                    yield reader.line_num, {"__width__": str(len(row)), "__expected__": width}
                    continue
                yield reader.line_num, dict(zip(header, row, strict=True))
    except UnicodeDecodeError as error:
        raise ImportFailed(
            f"{path.name} is not in the {mapping.encoding} encoding ({error.reason} at byte "
            f"{error.start}); save it as UTF-8 or set 'encoding:' (e.g. cp1252) in the mapping."
        ) from None
    except csv.Error as error:
        raise ImportFailed(f"{path.name} is not valid CSV: {error}.") from None
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ImportFailed(f"Cannot read {path}: {error}") from None


ZENDESK_MAPPING = Mapping.from_dict({
    "kind": "cases", "id": "id",
    "columns": {"subject": "subject", "description": "description", "status": "status",
                "priority": "priority", "channel": "channel", "tags": "tags",
                "opened_at": "created_at", "team": "group_id", "assignee": "assignee_id",
                "customer": "requester_id", "category": "type"},
    "date_formats": ["%Y-%m-%dT%H:%M:%S%z"],
    "values": {
        "status": {"new": "new", "open": "open", "pending": "pending_customer",
                   "hold": "on_hold", "solved": "resolved", "closed": "closed"},
        "priority": {"urgent": 1, "high": 2, "normal": 3, "low": 4, "": 3},
        "channel": {"email": "email", "web": "web_form", "api": "web_form", "voice": "phone",
                    "chat": "chat", "native_messaging": "chat", "twitter": "social",
                    "facebook": "social", "mobile_sdk": "chat", "*": "web_form"},
    },
}, source="zendesk")


def read_zendesk(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield tickets of a Zendesk export ({"tickets": [...]} or JSON lines) as flat rows."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFailed(f"Cannot read {path} as UTF-8 JSON: {error}") from None
    try:
        data = json.loads(text)
        tickets = data["tickets"] if isinstance(data, dict) else data
        numbered = list(enumerate(tickets, start=1))
    except json.JSONDecodeError:
        numbered = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                raise ImportFailed(
                    f"{path.name} line {number} is not JSON: {error.msg}."
                ) from None
    except (KeyError, TypeError):
        raise ImportFailed(f"{path.name} has no 'tickets' list.") from None
    for number, ticket in numbered:
        if not isinstance(ticket, dict):
            yield number, {"__width__": "not an object", "__expected__": "a ticket object"}
            continue
        via = ticket.get("via") or {}
        row = {key: "" if ticket.get(key) is None else str(ticket.get(key))
               for key in ("id", "subject", "description", "status", "priority", "created_at",
                           "group_id", "assignee_id", "requester_id", "type")}
        row["channel"] = str(via.get("channel") or "")
        row["tags"] = ",".join(ticket.get("tags") or [])
        yield number, row


# --- validating ------------------------------------------------------------------------

class RowParser:
    """Turns raw rows into typed Rows, reporting every problem it finds."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.zone = ZoneInfo(mapping.timezone)
        self.parse_date = lru_cache(maxsize=200_000)(self._parse_date)

    def _parse_date(self, text: str) -> datetime | None:
        for fmt in self.mapping.date_formats:
            try:
                moment = datetime.strptime(text, fmt)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
        return None

    def _value(self, target: str, raw: str, line: int, column: str, outcome: Outcome):
        table = self.mapping.values.get(target)
        if table is not None:
            if raw in table:
                return table[raw]
            if "*" in table:
                return table["*"]
            if raw in self.mapping.missing:
                return None
            outcome.reject(Problem(line, column, raw, f"{raw!r} is not in the value map for "
                                   f"{target} (known: {', '.join(sorted(table))})."))
            return None
        if raw in self.mapping.missing:
            return None
        return raw

    def parse(self, line: int, raw: dict, outcome: Outcome) -> Row | None:
        if "__width__" in raw:
            outcome.reject(Problem(line, "", "", f"the row has {raw['__width__']} fields; "
                                   f"expected {raw['__expected__']}."))
            return None
        before = outcome.problem_count
        m = self.mapping
        values: dict = {}
        for target, column in m.columns.items():
            value = self._value(target, raw[column].strip(), line, column, outcome)
            if value is None:
                continue
            if target in DATE_TARGETS:
                moment = self.parse_date(value)
                if moment is None:
                    outcome.reject(Problem(line, column, value, "not a date in the format "
                                           f"{' or '.join(m.date_formats)}."))
                    continue
                value = moment
            elif target in CHOICES or target == "reopen_count":
                try:
                    value = int(value) if target != "status" and target != "channel" else value
                except (TypeError, ValueError):
                    outcome.reject(Problem(line, column, str(value), "not a whole number."))
                    continue
                if target in CHOICES and value not in CHOICES[target]:
                    outcome.reject(Problem(line, column, str(value), f"not a valid {target} "
                                           f"(allowed: {', '.join(map(str, CHOICES[target]))})."))
                    continue
            values[target] = value
        if m.subject_template:
            values["subject"] = m.subject_template.format(
                **{k: ("" if v in m.missing else v) for k, v in raw.items()}).strip()[:255]
        if not values.get("subject"):
            outcome.reject(Problem(line, m.columns.get("subject", ""), "", "the subject is empty."))
        key = raw[m.id_column].strip() if m.id_column else f"line-{line}"
        if m.id_column and not key:
            outcome.reject(Problem(line, m.id_column, "", "the case id is empty."))
        at = None
        if m.event_time:
            text = raw[m.event_time].strip()
            at = self.parse_date(text)
            if at is None:
                outcome.reject(Problem(line, m.event_time, text, "not a date in the format "
                                       f"{' or '.join(m.date_formats)}."))
        sequence = 0
        if m.sequence:
            try:
                sequence = int(raw[m.sequence])
            except ValueError:
                outcome.reject(Problem(line, m.sequence, raw[m.sequence], "not a whole number."))
        if "opened_at" not in values and at is None and outcome.problem_count == before:
            outcome.reject(Problem(line, m.columns.get("opened_at", ""), "",
                                   "no opening time (map opened_at or event_time)."))
        if outcome.problem_count != before:
            return None
        return Row(line=line, case_key=key[:100], at=at, sequence=sequence, values=values)


def _groups(rows: Iterator[Row | None], mapping: Mapping, outcome: Outcome):
    """Group consecutive rows of one case (event logs) or yield each row alone."""
    if mapping.kind != "event_log":
        for row in rows:
            if row is not None:
                yield [row]
        return
    current: list[Row] = []
    finished: set[str] = set()
    for row in rows:
        if row is None:
            continue
        if current and row.case_key != current[0].case_key:
            finished.add(current[0].case_key)
            yield current
            current = []
        if not current and row.case_key in finished:
            outcome.reject(Problem(row.line, mapping.id_column, row.case_key,
                                   "the rows of this case are not together; sort the file by "
                                   "case id first."))
            continue
        current.append(row)
    if current:
        yield current


# --- building cases --------------------------------------------------------------------

@dataclass
class Built:
    case: Case
    events: list[CaseEvent]
    tags: list[str]


class Lookups:
    """Teams, staff, customers and categories by name, created once before the write."""

    def __init__(self):
        self.teams: dict[str, Team] = {}
        self.staff: dict[str, Staff] = {}
        self.customers: dict[str, Customer] = {}
        self.categories: dict[tuple[str, str], Category] = {}

    def prepare(self, names: dict[str, set], now: datetime) -> None:
        for name in sorted(names["team"]):
            self.teams[name], _ = Team.objects.get_or_create(name=name[:100])
        existing = {s.name: s for s in Staff.objects.filter(name__in=names["assignee"])}
        for name in sorted(names["assignee"]):
            self.staff[name] = existing.get(name) or Staff.objects.create(name=name[:150])
        known = {c.external_ref: c for c in
                 Customer.objects.filter(external_ref__in=names["customer"])}
        new = [Customer(name=name[:200], external_ref=name[:100], created_at=now)
               for name in sorted(names["customer"]) if name not in known]
        Customer.objects.bulk_create(new, batch_size=BATCH)
        known |= {c.external_ref: c for c in
                  Customer.objects.filter(external_ref__in=[c.external_ref for c in new])}
        self.customers = known
        for parent_name, child_name in sorted(names["category"]):
            parent = self.categories.get((parent_name, ""))
            if parent is None:
                parent, _ = Category.objects.get_or_create(name=parent_name[:100], parent=None)
                self.categories[(parent_name, "")] = parent
            if child_name:
                child, _ = Category.objects.get_or_create(name=child_name[:100], parent=parent)
                self.categories[(parent_name, child_name)] = child


def _names(group: list[Row], names: dict[str, set]) -> None:
    for row in group:
        v = row.values
        for target in ("team", "assignee", "customer"):
            if target in v:
                names[target].add(str(v[target]))
        if "category" in v:
            names["category"].add((str(v["category"]), str(v.get("subcategory", ""))))


def _build(group: list[Row], look: Lookups) -> Built:
    first, last = group[0], group[-1]
    v = dict(last.values)
    opened = first.values.get("opened_at") or first.at
    impact, urgency = v.get("impact", Level.MEDIUM), v.get("urgency", Level.MEDIUM)
    category = None
    if "category" in v:
        category = look.categories.get((str(v["category"]), str(v.get("subcategory", "")))) \
            or look.categories.get((str(v["category"]), ""))
    case = Case(
        subject=v["subject"], description=v.get("description", ""),
        channel=first.values.get("channel", Channel.EMAIL), impact=impact, urgency=urgency,
        priority=v.get("priority") or priority_for(impact, urgency),
        category=category, customer=look.customers.get(str(v.get("customer", ""))),
        team=look.teams.get(str(v.get("team", ""))),
        assignee=look.staff.get(str(v.get("assignee", ""))),
        external_ref=first.case_key if not first.case_key.startswith("line-") else "",
        opened_at=opened, updated_at=last.at or opened, status=Status.NEW,
    )
    events: list[CaseEvent] = []

    def event(kind, at, row, old="", new="", **data):
        events.append(CaseEvent(case=case, kind=kind, at=at, from_value=str(old),
                                to_value=str(new), data={"source": "import", "row": row.line,
                                                         **data}))

    event(EventKind.CREATED, opened, first, "", Status.NEW, channel=case.channel)
    state = {"status": Status.NEW, "team": "", "assignee": "", "priority": None, "reopen": 0}
    for row in sorted(group, key=lambda r: (r.at or opened, r.sequence)):
        values, at = row.values, max(row.at or opened, opened)
        team = str(values.get("team", ""))
        if team != state["team"] and team:
            old = look.teams[state["team"]].pk if state["team"] else ""
            event(EventKind.TEAM_CHANGED, at, row, old, look.teams[team].pk)
            state["team"] = team
        assignee = str(values.get("assignee", ""))
        if assignee != state["assignee"]:
            old = look.staff[state["assignee"]].pk if state["assignee"] else ""
            new = look.staff[assignee].pk if assignee else ""
            event(EventKind.ASSIGNED, at, row, old, new)
            state["assignee"] = assignee
        priority = values.get("priority") or priority_for(values.get("impact", impact),
                                                          values.get("urgency", urgency))
        if state["priority"] is not None and priority != state["priority"]:
            event(EventKind.PRIORITY_CHANGED, at, row, state["priority"], priority)
        state["priority"] = priority
        status = values.get("status")
        reopened = values.get("reopen_count", 0) > state["reopen"]
        if reopened:
            state["reopen"] = values["reopen_count"]
            if state["status"] != Status.REOPENED:
                event(EventKind.STATUS_CHANGED, at, row, state["status"], Status.REOPENED)
                state["status"] = Status.REOPENED
        if status and status != state["status"] and not (
            reopened and status in (Status.OPEN, Status.NEW)
        ):
            event(EventKind.STATUS_CHANGED, at, row, state["status"], status)
            state["status"] = status
    case.status = state["status"]
    if case.status in (Status.RESOLVED, Status.CLOSED):
        resolved = [e.at for e in events if e.to_value == Status.RESOLVED]
        case.resolved_at = v.get("resolved_at") or (resolved[-1] if resolved else last.at)
    if case.status == Status.CLOSED:
        closed = [e.at for e in events if e.to_value == Status.CLOSED]
        case.closed_at = v.get("closed_at") or (closed[-1] if closed else last.at)
    tags = [t.strip().lower() for t in str(v.get("tags", "")).split(",") if t.strip()]
    return Built(case=case, events=events, tags=tags)


def _write(batch: list[Built]) -> int:
    from serviceops.cases.models import Tag

    Case.objects.bulk_create([b.case for b in batch])
    events = [e for b in batch for e in b.events]
    for e in events:
        e.case_id = e.case.pk
    CaseEvent.objects.bulk_create(events, batch_size=BATCH)
    case_facts_refresh([b.case.pk for b in batch])
    names = {t for b in batch for t in b.tags}
    if names:
        Tag.objects.bulk_create([Tag(name=n[:50]) for n in names], ignore_conflicts=True)
        ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        Case.tags.through.objects.bulk_create(
            [Case.tags.through(case_id=b.case.pk, tag_id=ids[t]) for b in batch
             for t in set(b.tags)], ignore_conflicts=True)
    return len(events)


# --- the command -----------------------------------------------------------------------

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

    for group in _groups(parsed(), mapping, outcome):
        key = group[0].case_key
        if mapping.id_column and key in keys:
            outcome.reject(Problem(group[0].line, mapping.id_column, key,
                                   f"duplicate case id (first on line {first_line[key]})."))
            continue
        keys.add(key)
        first_line[key] = group[0].line
        outcome.cases += 1
        _names(group, names)
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

        for group in _groups(counted(), mapping, second):
            batch.append(_build(group, look))
            if len(batch) >= BATCH:
                events += _write(batch)
                batch = []
        if batch:
            events += _write(batch)
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
