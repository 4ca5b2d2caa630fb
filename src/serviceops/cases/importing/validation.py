"""Validating: raw rows become typed Rows (every problem reported), grouped by case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from serviceops.cases.choices import Channel, Level, Priority, Status
from serviceops.cases.importing.mapping import Mapping, Outcome, Problem, Row

DATE_TARGETS = ("opened_at", "resolved_at", "closed_at")
CHOICES = {
    "status": set(Status.values), "channel": set(Channel.values),
    "impact": set(Level.values), "urgency": set(Level.values), "priority": set(Priority.values),
}


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


def groups(rows: Iterator[Row | None], mapping: Mapping, outcome: Outcome):
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
