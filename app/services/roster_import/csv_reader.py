"""Reading a OneRoster 1.1 or 1.2 CSV set (a ZIP, or the files one by one) into rows, as real exports write them:
a UTF-8 byte-order mark, CRLF line ends, columns in any order and case, extra or missing optional columns,
quoted lists ("09,10"), day-first dates. Nothing here touches the database; app.services.roster_import.plan
decides what the rows mean for a school."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from app.i18n import _

MAX_TOTAL_BYTES = 30 * 1024 * 1024  # a whole district's export is a few MB
MAX_ROWS = 100_000  # per file
MAX_ZIP_ENTRIES = 100

# The files Folio reads, by their OneRoster names; the gradebook and resource files are left aside.
ROSTER_FILES = ("manifest", "orgs", "academicSessions", "courses", "classes", "users", "enrollments", "roles",
                "userProfiles", "demographics")
_BY_LOWER = {name.lower(): name for name in ROSTER_FILES}
MODES = ("bulk", "delta", "absent")


class RosterFileProblem(Exception):
    """The upload as a whole can't be read (not a ZIP or CSV, too large); the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Row:
    """One data row: its file ("users.csv"), its line as a spreadsheet numbers it (the header is 1), its values."""

    file: str
    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column.lower(), "").strip()


@dataclass
class Problem:
    """A row (or a whole file, row None) that can't be used, and why, in plain words."""

    file: str
    row: int | None
    reason: str


@dataclass
class RosterSet:
    """What was uploaded: each file's rows and mode (bulk, delta), the OneRoster version, and what couldn't be read."""

    tables: dict[str, list[Row]] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    has_manifest: bool = False
    declared: dict[str, str] = field(default_factory=dict)  # the modes the manifest names
    version: str = ""
    problems: list[Problem] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    def rows(self, name: str) -> list[Row]:
        return self.tables.get(name, [])

    def columns(self, name: str) -> set[str]:
        rows = self.tables.get(name)
        return set(rows[0].values) if rows else set()

    def is_bulk(self, name: str) -> bool:
        """True only when a manifest says the file is a full export: then whatever it leaves out has gone."""
        return self.declared.get(name) == "bulk" and name in self.tables


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:  # an old spreadsheet's "CSV (Windows)": every byte is some character there
        return data.decode("cp1252", errors="replace")


def _table_name(path: str) -> str | None:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    if not base.lower().endswith(".csv") or base.startswith((".", "._")):
        return None
    return _BY_LOWER.get(base[:-4].lower())


def read_upload(files: list[tuple[str, bytes]]) -> RosterSet:
    """The roster in the uploaded files: one ZIP holding the CSV files, or the CSV files themselves."""
    if sum(len(data) for _name, data in files) > MAX_TOTAL_BYTES:
        raise RosterFileProblem(_("That is more than %(max)s MB; a OneRoster export is usually much smaller.",
                                  max=MAX_TOTAL_BYTES // (1024 * 1024)))
    texts: dict[str, tuple[str, str]] = {}  # table -> (file name as uploaded, text)
    roster = RosterSet()
    for name, data in files:
        if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            for entry_name, entry_data in _zip_entries(name, data):
                _add_text(roster, texts, entry_name, entry_data)
        else:
            _add_text(roster, texts, name, data)
    if not texts:
        raise RosterFileProblem(_("No OneRoster files were found. Upload the export's ZIP, or its users.csv, "
                                  "classes.csv and enrollments.csv files."))
    manifest = texts.pop("manifest", None)
    if manifest is not None:
        roster.has_manifest = True
        _read_manifest(roster, manifest[0], manifest[1])
    for table, (file_name, text) in texts.items():
        mode = roster.modes.get(table, "bulk")
        if mode == "absent":
            roster.problems.append(Problem(file_name, None, _("The manifest says this file is absent, so it was "
                                                             "left aside.")))
            continue
        roster.modes[table] = mode
        roster.tables[table] = _read_rows(roster, file_name, text)
    roster.version = roster.version or ("1.2" if "roles" in roster.tables or (
        "users" in roster.tables and "role" not in roster.columns("users")) else "1.1")
    return roster


def _zip_entries(name: str, data: bytes) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [info for info in archive.infolist() if not info.is_dir() and "__MACOSX" not in info.filename]
        if len(entries) > MAX_ZIP_ENTRIES or sum(info.file_size for info in entries) > MAX_TOTAL_BYTES:
            raise RosterFileProblem(_("“%(name)s” holds more than a roster export does; Folio didn't open it.",
                                      name=name))
        return [(info.filename, archive.read(info)) for info in entries]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError):
        raise RosterFileProblem(_("“%(name)s” isn't a ZIP archive Folio can open.", name=name)) from None


def _add_text(roster: RosterSet, texts: dict, name: str, data: bytes) -> None:
    table = _table_name(name)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if table is None:
        if base and not base.startswith("."):
            roster.ignored_files.append(base)
        return
    if table in texts:
        roster.problems.append(Problem(base, None, _("There were two files with this name; only the first was read.")))
        return
    texts[table] = (f"{table}.csv", _decode(data))


def _csv_records(text: str) -> list[list[str]]:
    # newline="" semantics: the csv module handles CRLF, LF and line breaks inside quoted values alike.
    return list(csv.reader(io.StringIO(text, newline="")))


def _read_rows(roster: RosterSet, file_name: str, text: str) -> list[Row]:
    try:
        records = _csv_records(text)
    except csv.Error as exc:
        roster.problems.append(Problem(file_name, None, _("This file isn't valid CSV (%(detail)s).", detail=str(exc))))
        return []
    records = [record for record in records if any(cell.strip() for cell in record)]
    if not records:
        return []
    header = [cell.strip().lstrip("\ufeff").lower() for cell in records[0]]
    if "sourcedid" not in header:
        roster.problems.append(Problem(file_name, 1, _("The first line should name the columns, starting with "
                                                      "sourcedId; it doesn't, so the file was left aside.")))
        return []
    if len(records) - 1 > MAX_ROWS:
        roster.problems.append(Problem(file_name, None, _("More than %(max)s rows: only the first %(max)s were read.",
                                                         max=MAX_ROWS)))
    rows = []
    for number, record in enumerate(records[1:MAX_ROWS + 1], start=2):
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header):]):
            roster.problems.append(Problem(file_name, number, _("This row has more values than the file has "
                                                               "columns (a comma inside a value without quotes?).")))
            continue
        rows.append(Row(file_name, number, {name: (record[i] if i < len(record) else "") for i, name in enumerate(header)}))
    return rows


def _read_manifest(roster: RosterSet, file_name: str, text: str) -> None:
    try:
        records = _csv_records(text)
    except csv.Error:
        roster.problems.append(Problem(file_name, None, _("The manifest isn't valid CSV; the files were read as "
                                                         "full exports.")))
        return
    for number, record in enumerate(records, start=1):
        if len(record) < 2 or number == 1 and record[0].strip().lstrip("\ufeff").lower() == "propertyname":
            continue
        key, value = record[0].strip().lstrip("\ufeff"), record[1].strip().lower()
        if key.lower() == "oneroster.version":
            roster.version = value
        elif key.lower().startswith("file."):
            table = _BY_LOWER.get(key[5:].lower())
            if table is not None and value in MODES:
                roster.modes[table] = roster.declared[table] = value
            elif table is not None:
                roster.problems.append(Problem(file_name, number, _("“%(value)s” isn't bulk, delta or absent.",
                                                                   value=record[1].strip())))


def split_list(raw: str) -> list[str]:
    """The values of a list cell: "09,10", "[\"10\"]" or "s1, s2" alike."""
    cleaned = raw.strip().strip("[]")
    return [part.strip().strip('"').strip() for part in cleaned.split(",") if part.strip().strip('"').strip()]


_DAY_FIRST = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")


def parse_date(raw: str) -> tuple[date | None, bool]:
    """A date from ISO (2026-09-01, or a timestamp) or day-first (01/09/2026, 1.9.2026) text; (None, True) for
    an empty cell, (None, False) for one that isn't a date."""
    text = raw.strip()
    if not text:
        return None, True
    try:
        return date.fromisoformat(text[:10]), True
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date(), True
    except ValueError:
        pass
    match = _DAY_FIRST.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day), True
        except ValueError:
            return None, False
    return None, False


def is_deleted(row: Row) -> bool:
    """True when the row marks its record as gone (1.1/1.2 "tobedeleted", 1.0 "inactive")."""
    return row.get("status").lower() in ("tobedeleted", "inactive", "deleted")
