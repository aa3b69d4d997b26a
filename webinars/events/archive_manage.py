"""Organizer pages for the archive: one past webinar at a time, or many from a file after a preview."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..series import service as series_service
from ..timefmt import timezone_names
from . import archive_entries
from .archive_entries import COLUMNS, FileUnreadable
from .archive_forms import ArchiveEntryForm, ArchiveImportForm
from .forms import offer_topics
from .manage import owned_event
from .service import RuleError

bp = Blueprint("archive_manage", __name__, url_prefix="/manage/archive")


@bp.before_request
@login_required
def _require_login() -> None:
    return None


def _offer_series(form: ArchiveEntryForm | ArchiveImportForm) -> None:
    form.series.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(series_id, title) for series_id, title in series_service.choices_for(current_user)
    ]


def _entry_form(form: ArchiveEntryForm, event=None) -> str:  # type: ignore[no-untyped-def]
    return render_template("archive/entry_form.html", form=form, event=event, timezones=timezone_names())


def _show_rule_errors(form: ArchiveEntryForm, error: RuleError) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None) or form.title
        field.errors = [*field.errors, message]


@bp.route("/new", methods=["GET", "POST"])
def new_entry() -> ResponseReturnValue:
    form = ArchiveEntryForm()
    _offer_series(form)
    offer_topics(form)
    if form.validate_on_submit():
        try:
            event = archive_entries.create_entry(current_user, form.to_data())
        except RuleError as error:
            _show_rule_errors(form, error)
        else:
            flash(_("Added to the archive."), "success")
            return redirect(url_for("manage.event", event_id=event.id))
    return _entry_form(form)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
def edit_entry(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    if not event.is_archive_entry:
        abort(404)
    form = ArchiveEntryForm()
    _offer_series(form)
    offer_topics(form)
    if request.method == "GET":
        form.fill_from(event)
    elif form.validate_on_submit():
        try:
            archive_entries.update_entry(event, current_user, form.to_data())
        except RuleError as error:
            _show_rule_errors(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("manage.event", event_id=event.id))
    return _entry_form(form, event)


@bp.route("/import", methods=["GET", "POST"])
def import_entries() -> ResponseReturnValue:
    """Upload, preview every row with its errors, then confirm: nothing is saved before that."""
    form = ArchiveImportForm()
    _offer_series(form)
    results = None
    if form.validate_on_submit():
        series_id = form.series.data or None
        try:
            if form.confirm.data:
                records = archive_entries.records_from_json(form.rows.data or "")
                created = archive_entries.import_entries(current_user, records, series_id)
                flash(
                    ngettext(
                        "%(num)s webinar added to the archive.",
                        "%(num)s webinars added to the archive.",
                        len(created),
                    ),
                    "success",
                )
                return redirect(url_for("events.past"))
            upload = form.file.data
            if upload is None or not getattr(upload, "filename", ""):
                form.file.errors = [*form.file.errors, _("Choose a file to import.")]
            else:
                records = archive_entries.read_file(
                    upload.filename, upload.read(archive_entries.MAX_IMPORT_BYTES + 1)
                )
                results = archive_entries.preview(current_user, records, series_id)
                form.rows.data = archive_entries.records_to_json(records)
        except FileUnreadable as error:
            form.file.errors = [*form.file.errors, error.message]
        except RuleError:
            # A row became invalid between the preview and the confirmation (a number taken meanwhile).
            results = archive_entries.preview(current_user, records, series_id)
    has_errors = bool(results) and any(result.errors for result in results)
    return render_template(
        "archive/import.html",
        form=form,
        results=results,
        has_errors=has_errors,
        columns=COLUMNS,
    )
