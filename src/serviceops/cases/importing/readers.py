"""Readers per format: each yields (line number, row as a dict of strings) and raises
ImportFailed if the file cannot be read at all."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

from serviceops.cases.importing.mapping import ImportFailed, Mapping


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
