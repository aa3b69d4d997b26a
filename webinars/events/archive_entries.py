"""Archive entries: webinars that happened before (any date since 2000), recorded for the archive with
their recording, speakers, number in the series and optional attendance figures. Nobody registers for
them and they send no mail. Created one by one or imported from a CSV or XLSX file, which is checked
row by row in a preview before anything is saved.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import Event, EventKind, EventStatus, Series, User
from ..series.service import can_manage
from ..validators import text_errors
from .service import EventData, RuleError, apply_changes, new_event

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 200
MAX_COLUMNS = 30


@dataclass
class ArchiveEntryData:
    title: str
    starts_at: datetime
    timezone: str
    duration_minutes: int = 60
    summary: str = ""
    recording_url: str = ""
    recording_summary: str = ""
    speakers: list[tuple[str, str]] = field(default_factory=list)
    series_id: int | None = None
    number: int | None = None
    tags: list[str] = field(default_factory=list)
    registrations_reported: int | None = None
    attendance_reported: int | None = None


def _end_of(data: ArchiveEntryData) -> datetime:
    try:
        return data.starts_at + timedelta(minutes=data.duration_minutes)
    except OverflowError:  # a date at the end of the calendar: far in the future, never a crash
        return datetime.max.replace(tzinfo=UTC)


def check_entry(
    editor: User, data: ArchiveEntryData, *, event: Event | None = None, numbers_in_file: Iterable[int] = ()
) -> dict[str, str]:
    """What the rules refuse in ``data``, as field -> message (empty when all is well)."""
    errors = text_errors(
        one_line={
            "title": data.title,
            "recording_url": data.recording_url,
            "tags": ",".join(data.tags),
            "speakers": "".join(name + (affiliation or "") for name, affiliation in data.speakers),
        },
        multiline={"summary": data.summary, "recording_summary": data.recording_summary},
    )
    if data.starts_at < EARLIEST:
        errors["date"] = str(_l("The date must be on or after 1 January 2000."))
    elif _end_of(data) > clock.now():
        errors["date"] = str(
            _l("An archive entry is for a webinar that has ended; plan a future one as a new webinar.")
        )
    if (
        data.registrations_reported is not None
        and data.attendance_reported is not None
        and data.attendance_reported > data.registrations_reported
    ):
        errors["attendance"] = str(_l("More people attended than registered: check both figures."))
    if data.series_id is not None:
        series = db.session.get(Series, data.series_id)
        if series is None or not can_manage(editor, series):
            errors["series"] = str(_l("Choose a series you own."))
        elif data.number is not None:
            if data.number in set(numbers_in_file):
                errors["number"] = str(
                    _l("Number #%(number)s appears twice in this file.", number=data.number)
                )
            else:
                clash = select(Event.id).where(Event.series_id == data.series_id, Event.number == data.number)
                if event is not None:
                    clash = clash.where(Event.id != event.id)
                if db.session.execute(clash).first() is not None:
                    errors["number"] = str(
                        _l("Number #%(number)s is already used in this series.", number=data.number)
                    )
    return errors


def _apply_entry(event: Event, data: ArchiveEntryData) -> None:
    apply_changes(
        event,
        EventData(
            title=data.title,
            starts_at=data.starts_at,
            timezone=data.timezone,
            duration_minutes=data.duration_minutes,
            summary=data.summary,
            speakers=data.speakers,
            reminder_offsets="",  # nobody to remind
            series_id=data.series_id,
            number=data.number,
            tags=data.tags,
        ),
    )
    event.number = data.number if data.series_id is not None else None  # never "the next number"
    event.recording_url = data.recording_url.strip()
    event.recording_summary = data.recording_summary
    event.registrations_reported = data.registrations_reported
    event.attendance_reported = data.attendance_reported


def _new_entry(owner: User, data: ArchiveEntryData) -> Event:
    event = new_event(owner, data.title, data.starts_at, kind=EventKind.ARCHIVE)
    _apply_entry(event, data)
    event.status = EventStatus.PUBLISHED
    # Announced when it happened: the Atom feed lists imported entries in their own order, not as news.
    event.published_at = data.starts_at
    db.session.add(event)
    return event


def create_entry(owner: User, data: ArchiveEntryData) -> Event:
    """A published archive entry. Raises RuleError. Commits."""
    with writing():
        errors = check_entry(owner, data)
        if errors:
            raise RuleError(errors)
        event = _new_entry(owner, data)
        db.session.commit()
    return event


def update_entry(event: Event, editor: User, data: ArchiveEntryData) -> None:
    """Change an archive entry. Raises RuleError. Commits."""
    with writing():
        errors = check_entry(editor, data, event=event)
        if errors:
            raise RuleError(errors)
        _apply_entry(event, data)
        event.published_at = data.starts_at
        event.updated_at = clock.now()
        db.session.commit()


# --- import from a file -----------------------------------------------------------------------------

# Header cells are matched case-insensitively, with these other names accepted.
COLUMNS = (
    "title",
    "date",
    "time",
    "timezone",
    "duration",
    "number",
    "speakers",
    "recording_url",
    "summary",
    "topics",
    "registrations",
    "attendance",
)
REQUIRED_COLUMNS = ("title", "date")
ALIASES = {
    "time_zone": "timezone",
    "zone": "timezone",
    "start_date": "date",
    "start_time": "time",
    "duration_minutes": "duration",
    "#": "number",
    "no": "number",
    "speaker": "speakers",
    "recording": "recording_url",
    "recording_link": "recording_url",
    "recording_address": "recording_url",
    "url": "recording_url",
    "tags": "topics",
    "topic": "topics",
    "registered": "registrations",
    "attended": "attendance",
    "attendees": "attendance",
}


class FileUnreadable(Exception):
    """The file as a whole cannot be read; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _column(header: Any) -> str:
    name = "_".join(str(header or "").strip().lower().replace("-", " ").split())
    return ALIASES.get(name, name)


def _cell(value: Any, column: str) -> str:
    """A spreadsheet cell as the text a person would type in the form."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%H:%M") if column == "time" else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _records(rows: Iterator[tuple[Any, ...]]) -> list[dict[str, str]]:
    header = next(rows, None)
    if header is None:
        raise FileUnreadable(str(_l("The file is empty.")))
    columns = [_column(cell) for cell in header[:MAX_COLUMNS]]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise FileUnreadable(
            str(
                _l(
                    "The first row must name the columns; missing: %(missing)s. Columns read: %(columns)s.",
                    missing=", ".join(missing),
                    columns=", ".join(COLUMNS),
                )
            )
        )
    records: list[dict[str, str]] = []
    for row in rows:
        values = {
            name: _cell(value, name) for name, value in zip(columns, row, strict=False) if name in COLUMNS
        }
        if not any(values.values()):
            continue  # blank lines between entries
        if len(records) == MAX_IMPORT_ROWS:
            raise FileUnreadable(str(_l("At most %(count)s webinars per file.", count=MAX_IMPORT_ROWS)))
        records.append(values)
    if not records:
        raise FileUnreadable(str(_l("The file has no webinars below its header row.")))
    return records


def read_csv(content: bytes) -> list[dict[str, str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileUnreadable(
            str(_l("The file is not UTF-8 text: save it as “CSV UTF-8” and try again."))
        ) from error
    if "\x00" in text:
        raise FileUnreadable(str(_l("This is not a CSV file.")))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return _records(iter(list(csv.reader(io.StringIO(text), dialect))))
    except csv.Error as error:
        raise FileUnreadable(
            str(_l("This CSV file cannot be read: %(error)s", error=str(error)[:200]))
        ) from error


def read_xlsx(content: bytes) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds (zip, XML, key errors) for a broken file
        raise FileUnreadable(str(_l("This is not an Excel workbook (.xlsx) that can be read."))) from error
    try:
        sheet = workbook.worksheets[0]

        def rows() -> Iterator[tuple[Any, ...]]:
            # One more row than allowed is enough to tell the file is too long; never read the rest.
            for index, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)):
                if index > MAX_IMPORT_ROWS * 5:
                    raise FileUnreadable(
                        str(_l("At most %(count)s webinars per file.", count=MAX_IMPORT_ROWS))
                    )
                yield row

        return _records(rows())
    except FileUnreadable:
        raise
    except Exception as error:
        raise FileUnreadable(str(_l("This is not an Excel workbook (.xlsx) that can be read."))) from error
    finally:
        workbook.close()


def read_file(filename: str, content: bytes) -> list[dict[str, str]]:
    if len(content) > MAX_IMPORT_BYTES:
        raise FileUnreadable(str(_l("The file is larger than 2 MB.")))
    if filename.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return read_xlsx(content)
    return read_csv(content)


@dataclass
class RowResult:
    line: int  # the row's number in the file (the header is row 1)
    values: dict[str, str]
    data: ArchiveEntryData | None
    errors: list[str]


def as_formdata(values: dict[str, str]) -> MultiDict[str, str]:
    """A row as the archive entry form's fields: several speakers or topics in a cell are separated
    by semicolons or line breaks (commas stay inside a topic or an affiliation)."""
    fields = {name: value.strip() for name, value in values.items() if name in COLUMNS and value.strip()}
    # What spreadsheets commonly hold: "2019-03-12 16:00" (or ...T16:00) in the date cell, "#16" as a number.
    day, _sep, moment = fields.get("date", "").replace("T", " ").partition(" ")
    if moment and "time" not in fields:
        fields["date"], fields["time"] = day, moment[:5]
    elif moment:
        fields["date"] = day
    if "number" in fields:
        fields["number"] = fields["number"].lstrip("#").strip()
    for name in ("speakers", "topics"):
        if name in fields:
            fields[name] = "\n".join(part.strip() for part in fields[name].replace(";", "\n").splitlines())
    # An empty cell is a field left blank: its default applies (UTC, 60 minutes).
    return MultiDict(fields)


def preview(editor: User, records: list[dict[str, str]], series_id: int | None) -> list[RowResult]:
    """Every row checked as the form and the rules would check it; nothing is saved."""
    from .archive_forms import ArchiveRowForm  # the forms module builds on this one

    results: list[RowResult] = []
    numbers: list[int] = []
    for line, values in enumerate(records, start=2):
        form = ArchiveRowForm(formdata=as_formdata(values))
        form.validate()
        messages = [
            f"{form[name].label.text}: {' '.join(map(str, errs))}" for name, errs in form.errors.items()
        ]
        data = None
        # The rules need the fields they read; with those valid, report their refusals beside the
        # others, so one preview lists everything that is wrong in a row.
        if not set(form.errors) & RULE_INPUTS:
            data = form.to_data(series_id)
            errors = check_entry(editor, data, numbers_in_file=numbers)
            if data.number is not None:
                numbers.append(data.number)
            messages += [f"{_rule_label(form, name)}: {message}" for name, message in errors.items()]
        results.append(RowResult(line, values, None if messages else data, messages))
    return results


# The fields the rules read: a row's rule errors are reported once these are valid.
RULE_INPUTS = {"date", "time", "timezone", "duration", "number", "registrations", "attendance"}


def _rule_label(form: Any, name: str) -> str:
    return str(form[name].label.text) if name in form else str(_l("Series"))


def import_entries(editor: User, records: list[dict[str, str]], series_id: int | None) -> list[Event]:
    """Create every row's entry in one transaction, or none: raises RuleError if any row is refused."""
    with writing():
        results = preview(editor, records, series_id)
        refused = [result for result in results if result.data is None]
        if refused:
            raise RuleError({"file": str(_l("%(count)s rows have errors.", count=len(refused)))})
        created = [_new_entry(editor, result.data) for result in results if result.data is not None]
        db.session.commit()
    return created


def records_to_json(records: list[dict[str, str]]) -> str:
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"))


def records_from_json(text: str) -> list[dict[str, str]]:
    """The rows carried from the preview to the confirmation, checked for shape (never trusted)."""
    try:
        value = json.loads(text or "[]")
    except ValueError as error:
        raise FileUnreadable(str(_l("The preview expired: upload the file again."))) from error
    if (
        not isinstance(value, list)
        or not 0 < len(value) <= MAX_IMPORT_ROWS
        or not all(
            isinstance(row, dict) and all(k in COLUMNS and isinstance(v, str) for k, v in row.items())
            for row in value
        )
    ):
        raise FileUnreadable(str(_l("The preview expired: upload the file again.")))
    return value
