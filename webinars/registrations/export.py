"""The registrations of a webinar as a spreadsheet: shared by the organizer pages and the API."""

from __future__ import annotations

import csv
import io

from flask_babel import get_locale
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Event, Registration, RegistrationStatus
from ..questions import service as questions
from ..timefmt import iso_utc

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


def registrations_query(event: Event, status: str | None) -> Select[tuple[Registration]]:
    query = select(Registration).where(Registration.event_id == event.id)
    if status in set(RegistrationStatus):
        query = query.where(Registration.status == status)
    return query.order_by(Registration.created_at, Registration.id).options(
        selectinload(Registration.answers)
    )


def csv_cell(value: object) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ is read as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(event: Event, status: str | None) -> str:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs pick the right encoding.

    The answers to the webinar's registration questions follow the fixed columns, one column a question
    (removed questions included, so answers already given are never dropped from an export).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = questions.answer_columns(event)
    locale = str(get_locale() or "en")
    writer.writerow([*COLUMNS, *(csv_cell(question.label) for question in columns)])
    for registration in db.session.scalars(
        registrations_query(event, status).execution_options(yield_per=500)
    ):
        given = questions.answers_by_question(registration)
        writer.writerow(
            csv_cell(value)
            for value in (
                registration.name,
                registration.email,
                registration.organisation,
                registration.status,
                iso_utc(registration.created_at),
                registration.confirmed_at and iso_utc(registration.confirmed_at),
                registration.cancelled_at and iso_utc(registration.cancelled_at),
                "" if registration.attended is None else ("yes" if registration.attended else "no"),
                registration.attended_minutes,
                *(
                    questions.display_value(given[question.id], locale) if question.id in given else ""
                    for question in columns
                ),
            )
        )
    return "\ufeff" + buffer.getvalue()


def filename(event: Event) -> str:
    return f"{event.slug}-registrations.csv"
