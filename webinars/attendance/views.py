"""The organizer's attendance page: upload a participant report, see and fix the matches."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..database import get_by_id
from ..events.manage import owned_event
from ..extensions import db
from ..models import Event, ParticipantRecord, Registration, RegistrationStatus
from . import service
from .forms import ImportForm, MatchForm
from .parsers import ReportError, parse

bp = Blueprint("attendance", __name__, url_prefix="/manage/webinars/<int:event_id>/attendance")

REPORT_ERRORS = {
    "empty": _l("The file is empty."),
    "encoding": _l("The file is not UTF-8 or UTF-16 text. Export the report again as CSV."),
    "binary": _l("This is not a text file. Upload the CSV participant report, not a spreadsheet or PDF."),
    "layout": _l(
        "No participant list found: the file needs a name column and a duration column, as in the "
        "participant reports of Zoom, Teams and Meet."
    ),
    "duration": _l("A duration in the file could not be read."),
    "too_many_rows": _l("The file has too many rows for a participant report."),
}


@bp.before_request
@login_required
def _require_login() -> None:
    return None


def _candidates(event: Event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.erased_at.is_(None),
                Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED)),
            )
            .order_by(Registration.name, Registration.id)
        )
    )


def _match_form(event: Event, record: ParticipantRecord, candidates: list[Registration]) -> MatchForm:
    form = MatchForm(prefix=f"record-{record.id}")
    form.registration.choices = [SelectChoice(0, _("— nobody registered —"))] + [
        SelectChoice(registration.id, f"{registration.name} <{registration.email}>")
        for registration in candidates
    ]
    if form.registration.data is None:
        form.registration.data = record.registration_id or 0
    return form


@bp.route("/", methods=["GET", "POST"])
def index(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    form = ImportForm()
    if not form.is_submitted():
        form.minimum_minutes.data = event.attendance_minimum_minutes
    status = 200
    if form.validate_on_submit():
        try:
            report = parse(form.report_bytes)
        except ReportError as error:
            form.report.errors.append(str(REPORT_ERRORS[error.code]))
            status = 400
        else:
            result = service.import_report(event, report, form.minimum_minutes.data)
            flash(
                _(
                    "Imported %(participants)s participants: %(matched)s matched, %(unmatched)s not matched. "
                    "%(attended)s attended, %(absent)s absent.",
                    participants=result.participants,
                    matched=result.matched,
                    unmatched=result.unmatched,
                    attended=result.attended,
                    absent=result.absent,
                ),
                "success",
            )
            return redirect(url_for("attendance.index", event_id=event.id))
    elif form.errors:
        status = 400
    records = service.records(event)
    candidates = _candidates(event)
    registrations = {registration.id: registration for registration in candidates}
    unmatched = [record for record in records if record.registration_id is None]
    matched = [record for record in records if record.registration_id is not None]
    return (
        render_template(
            "attendance/index.html",
            event=event,
            form=form,
            unmatched=[(record, _match_form(event, record, candidates)) for record in unmatched],
            matched=[(record, _match_form(event, record, candidates)) for record in matched],
            registrations=registrations,
        ),
        status,
    )


@bp.route("/records/<int:record_id>", methods=["POST"])
def match(event_id: int, record_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    record = get_by_id(ParticipantRecord, record_id)
    if record is None or record.event_id != event.id:
        abort(404)
    candidates = _candidates(event)
    form = _match_form(event, record, candidates)
    if not form.validate_on_submit():
        abort(400)
    chosen = get_by_id(Registration, form.registration.data) if form.registration.data else None
    service.assign(event, record, chosen)
    flash(_("Match saved; attendance updated."), "success")
    return redirect(url_for("attendance.index", event_id=event.id))
