"""The mapping that says how a file's columns become cases, and the records shared by both
passes of an import: `ImportFailed`, `Problem`, `Row` and `Outcome`."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

TARGETS = {
    "subject", "description", "channel", "status", "impact", "urgency", "priority",
    "category", "subcategory", "team", "assignee", "customer", "customer_email", "tags",
    "opened_at", "resolved_at", "closed_at", "reopen_count",
}
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
    """One rejected row: its line, the column at fault (or ""), the value and why."""

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
    """What an import found and did: counts, and the problems (the first MAX_REPORTED)."""

    rows: int = 0
    cases: int = 0
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def reject(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)
