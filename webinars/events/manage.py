"""Organizer pages: the webinars one manages, their forms and their registrations."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..forms import apply_rule_error, enum_arg
from ..models import Event, RegistrationStatus
from ..permissions import Capability, event_for, events_visible_to, require_sign_in
from ..registrations import export
from ..registrations import service as registrations_service
from ..rules import RuleError
from ..text import render_markdown
from ..timefmt import timezone_names
from ..urls import embed_snippet
from . import queries, service
from .forms import EventForm

bp = Blueprint("manage", __name__, url_prefix="/manage")


require_sign_in(bp)


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    query = events_visible_to(current_user).order_by(Event.starts_at.desc(), Event.id.desc())
    events = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    counts = registrations_service.status_counts([event.id for event in events.items])
    return render_template("manage/dashboard.html", events=events, counts=counts, action_form=FlaskForm())


def _offer_series(form: EventForm) -> None:
    form.series.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(series_id, title) for series_id, title in queries.series_choices(current_user)
    ]


def _render_form(form: EventForm, event: Event | None = None) -> str:
    return render_template("manage/event_form.html", form=form, event=event, timezones=timezone_names())


@bp.route("/webinars/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    form = EventForm()
    _offer_series(form)
    if request.method == "GET" and not form.timezone.data:
        form.timezone.data = "UTC"
    if form.validate_on_submit():
        try:
            event = service.create_event(current_user, form.to_data())
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Draft saved. Publish it when you are ready."), "success")
            return redirect(url_for("manage.event", event_id=event.id))
    return _render_form(form)


@bp.route("/webinars/<int:event_id>")
def event(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    counts = registrations_service.status_counts([event.id])[event.id]
    return render_template(
        "manage/event.html",
        event=event,
        counts=counts,
        embed_snippet=embed_snippet(event.slug),
        description=render_markdown(event.description_md),
        action_form=FlaskForm(),
    )


@bp.route("/webinars/<int:event_id>/edit", methods=["GET", "POST"])
def edit(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
    form = EventForm()
    _offer_series(form)
    if request.method == "GET":
        form.fill_from(event)
    elif form.validate_on_submit():
        try:
            notified = service.update_event(event, form.to_data())
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            if notified:
                flash(_("Saved. Confirmed attendees will receive the updated invitation."), "success")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("manage.event", event_id=event.id))
    return _render_form(form, event)


def _action(
    event_id: int, capability: Capability, action: Callable[[Event], None], done: str
) -> ResponseReturnValue:
    event = event_for(event_id, capability)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        action(event)
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
        return redirect(url_for("manage.event", event_id=event_id))
    flash(done, "success")
    if action is service.delete_draft:
        return redirect(url_for("manage.dashboard"))
    return redirect(url_for("manage.event", event_id=event_id))


@bp.route("/webinars/<int:event_id>/publish", methods=["POST"])
def publish(event_id: int) -> ResponseReturnValue:
    return _action(event_id, Capability.EDIT, service.publish, _("Published: registration is open."))


@bp.route("/webinars/<int:event_id>/unpublish", methods=["POST"])
def unpublish(event_id: int) -> ResponseReturnValue:
    return _action(
        event_id,
        Capability.EDIT,
        service.unpublish,
        _("Unpublished: the page is hidden and registration closed."),
    )


@bp.route("/webinars/<int:event_id>/cancel", methods=["POST"])
def cancel(event_id: int) -> ResponseReturnValue:
    return _action(
        event_id, Capability.ADMINISTER, service.cancel_event, _("Cancelled: attendees are being notified.")
    )


@bp.route("/webinars/<int:event_id>/delete", methods=["POST"])
def delete(event_id: int) -> ResponseReturnValue:
    return _action(event_id, Capability.ADMINISTER, service.delete_draft, _("Draft deleted."))


@bp.route("/webinars/<int:event_id>/registrations")
def registrations(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    status = enum_arg(RegistrationStatus, request.args.get("status"))
    page = db.paginate(
        export.registrations_query(event, status),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    counts = registrations_service.status_counts([event.id])[event.id]
    return render_template(
        "manage/registrations.html",
        event=event,
        page=page,
        status=status,
        counts=counts,
        statuses=list(RegistrationStatus),
        action_form=FlaskForm(),
    )


@bp.route("/webinars/<int:event_id>/registrations.csv")
def registrations_csv(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    status = enum_arg(RegistrationStatus, request.args.get("status"))
    return Response(
        export.csv_text(event, status),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{export.filename(event)}"'},
    )
