"""The registrations of a webinar as a spreadsheet (CSV or XLSX): shared by the organizer pages and
the API. Both formats hold the same rows, in the order and with the filters of the list they come from.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Select

from .. import audit, labels
from ..database import writing
from ..extensions import db
from ..models import AuditAction, Event, Registration, RegistrationStatus
from ..questions import service as questions
from ..timefmt import iso_utc
from .listing import ListFilter, matching, with_answers

COLUMNS = [
    "name",
    "email",
    "organisation",
    "status",
    "registered_at",
    "confirmed_at",
    "cancelled_at",
    "attended",
    "minutes_attended",
]
# What an organizer's spreadsheet calls the same columns, in their language. The API's CSV keeps the
# machine names and values above: a program reading it must not break when someone reads Spanish.
COLUMN_LABELS = [
    _l("Name"),
    _l("Email"),
    _l("Organisation"),
    _l("Status"),
    _l("Registered (UTC)"),
    _l("Confirmed (UTC)"),
    _l("Cancelled (UTC)"),
    _l("Attended"),
    _l("Minutes attended"),
]
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows are streamed from the database in batches of this size, so an export of 10,000 people never
# holds them all as objects at once.
BATCH = 500


def registrations_query(event: Event, status: str | None) -> Select[Registration]:
    wanted = ListFilter(status=RegistrationStatus(status) if status in set(RegistrationStatus) else None)
    return with_answers(matching(event, wanted))


def note_export(event: Event, file_format: str) -> None:
    """Enter a download of the registrations in the webinar's audit log: a list of people leaving
    the site is worth knowing about. Commits."""
    with writing():
        audit.record(event, AuditAction.EXPORTED, file_format)
        db.session.commit()


def csv_cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ (or a tab or carriage return,
    which some programs skip before reading one) is read as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rows(event: Event, wanted: ListFilter, *, for_people: bool) -> Iterator[list[object]]:
    """The header, then one row a registration: fixed columns, then one column a question (removed
    questions included, so answers already given are never dropped from an export). Numbers stay
    numbers; every text is neutralised. ``for_people`` names columns, statuses and yes/no in the
    reader's language; otherwise they keep their machine spelling."""
    columns = questions.answer_columns(event)
    locale = str(get_locale() or "en")
    header = [str(column) for column in COLUMN_LABELS] if for_people else COLUMNS
    yield [*header, *(csv_cell(question.label) for question in columns)]
    query = with_answers(matching(event, wanted)).execution_options(yield_per=BATCH)
    for registration in db.session.scalars(query):
        given = questions.answers_by_question(registration)
        texts = (
            registration.name,
            "" if registration.erased_at else registration.email,  # a placeholder address, not theirs
            registration.organisation,
            labels.label(registration.status) if for_people else registration.status,
            iso_utc(registration.created_at),
            registration.confirmed_at and iso_utc(registration.confirmed_at),
            registration.cancelled_at and iso_utc(registration.cancelled_at),
            _attended(registration.attended, for_people),
        )
        answers = (
            questions.display_value(given[question.id], locale) if question.id in given else ""
            for question in columns
        )
        yield [
            *(csv_cell(text) for text in texts),
            registration.attended_minutes,
            *(csv_cell(answer) for answer in answers),
        ]


def _attended(value: bool | None, for_people: bool) -> str:
    if for_people:
        return labels.yes_no(value)
    return "" if value is None else ("yes" if value else "no")


def csv_text(
    event: Event, status: str | None = None, wanted: ListFilter | None = None, *, for_people: bool = True
) -> str:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs pick the right encoding."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    chosen = wanted or ListFilter.from_args({"status": status or ""})
    for row in _rows(event, chosen, for_people=for_people):
        writer.writerow("" if value is None else value for value in row)
    return "\ufeff" + buffer.getvalue()


def _text_cell(sheet: WriteOnlyWorksheet, value: object) -> WriteOnlyCell | object:
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    # openpyxl stores any string starting with "=" as a formula; the type says text, whatever it holds.
    cell.data_type = "s"
    return cell


def xlsx_bytes(event: Event, wanted: ListFilter) -> bytes:
    """The same rows as the CSV in an Excel workbook, written row by row (constant memory)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Registrations")
    for row in _rows(event, wanted, for_people=True):
        sheet.append([_text_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(event: Event, extension: str = "csv") -> str:
    return f"{event.slug}-registrations.{extension}"
