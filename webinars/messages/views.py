"""Organizer follow-up: messages to attendees, the recording, attendance and the email log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..events.manage import owned_event
from ..events.service import RuleError
from ..extensions import db
from ..mail import notifications, outbox
from ..mail.forms import RetryFailedForm
from ..models import Broadcast, OutboxMessage, OutboxStatus, Registration
from . import service
from .forms import AUDIENCE_LABELS, MessageForm, RecordingForm

bp = Blueprint("followup", __name__, url_prefix="/manage/webinars/<int:event_id>")


@bp.before_request
@login_required
def _require_login() -> None:
    return None


def _registration(event_id: int, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        abort(404)
    return registration


def _checked_post() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


@bp.route("/messages/new", methods=["GET", "POST"])
def new_message(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    form = MessageForm()
    sizes = {key: service.audience_size(event.id, key) for key in ("confirmed", "waitlisted", "all")}
    preview = None
    if form.validate_on_submit():
        if form.send.data:
            broadcast = service.create(
                event,
                current_user,
                audience=form.audience.data,
                subject=form.subject.data,
                body_md=form.body.data,
            )
            flash(_("Your message is on its way."), "success")
            return redirect(url_for("followup.message", event_id=event.id, broadcast_id=broadcast.id))
        preview = service.preview(event, subject=form.subject.data, body_md=form.body.data)
    return render_template("followup/new_message.html", event=event, form=form, sizes=sizes, preview=preview)


@bp.route("/messages/<int:broadcast_id>")
def message(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.event_id != event.id:
        abort(404)
    return render_template(
        "followup/message.html",
        event=event,
        broadcast=broadcast,
        progress=service.progress(broadcast),
        audience=AUDIENCE_LABELS[broadcast.audience],
    )


@bp.route("/recording", methods=["GET", "POST"])
def recording(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    form = RecordingForm()
    if request.method == "GET":
        form.recording_url.data = event.recording_url
        form.recording_summary.data = event.recording_summary
    elif form.validate_on_submit():
        try:
            service.set_recording(
                event, url=form.recording_url.data or "", summary=form.recording_summary.data or ""
            )
        except RuleError as error:
            form.recording_url.errors = [*form.recording_url.errors, *error.errors.values()]
            return render_template("followup/recording.html", event=event, form=form)
        if form.notify.data and event.recording_url:
            broadcast = service.create(
                event,
                current_user,
                audience=form.notify.data,
                kind="recording",
                subject=notifications.SUBJECTS["recording"](event),
                body_md=event.recording_summary,
            )
            flash(_("Recording saved; the email is on its way."), "success")
            return redirect(url_for("followup.message", event_id=event.id, broadcast_id=broadcast.id))
        flash(_("Recording saved."), "success")
        return redirect(url_for("manage.event", event_id=event.id))
    return render_template("followup/recording.html", event=event, form=form)


@bp.route("/registrations/<int:registration_id>/resend", methods=["POST"])
def resend(event_id: int, registration_id: int) -> ResponseReturnValue:
    owned_event(event_id)
    _checked_post()
    registration = _registration(event_id, registration_id)
    if registration.status == "cancelled":
        abort(409)
    notifications.resend_invitation(registration)
    db.session.commit()
    flash(_("Invitation queued again for %(email)s.", email=registration.email), "success")
    return redirect(request.referrer or url_for("manage.registrations", event_id=event_id))


@bp.route("/registrations/<int:registration_id>/attendance", methods=["POST"])
def attendance(event_id: int, registration_id: int) -> ResponseReturnValue:
    owned_event(event_id)
    _checked_post()
    registration = _registration(event_id, registration_id)
    value = {"attended": True, "absent": False}.get(request.form.get("attended", ""))
    service.set_attendance(registration, value)
    return redirect(request.referrer or url_for("manage.registrations", event_id=event_id))


@bp.route("/emails")
def emails(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    status = request.args.get("status") or None
    query = select(OutboxMessage).where(OutboxMessage.event_id == event.id)
    if status in set(OutboxStatus):
        query = query.where(OutboxMessage.status == status)
    page = db.paginate(
        query.order_by(OutboxMessage.id.desc()), per_page=current_app.config["PER_PAGE"], error_out=False
    )
    return render_template(
        "followup/emails.html",
        event=event,
        page=page,
        status=status,
        statuses=list(OutboxStatus),
        action_form=FlaskForm(),
        retry_form=RetryFailedForm(formdata=None),
        failed=service.failed_count(event.id),
    )


@bp.route("/emails/retry-failed", methods=["POST"])
def retry_failed(event_id: int) -> ResponseReturnValue:
    event = owned_event(event_id)
    form = RetryFailedForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("followup.emails", event_id=event.id, status="failed"))
    since, until = service.period_in_zone(event.timezone, form.since.data, form.until.data)
    count = outbox.retry_failed(event_id=event.id, since=since, until=until)
    flash(_("%(count)s failed email(s) queued again.", count=count), "success")
    return redirect(url_for("followup.emails", event_id=event.id))


@bp.route("/emails/<int:message_id>/retry", methods=["POST"])
def retry(event_id: int, message_id: int) -> ResponseReturnValue:
    owned_event(event_id)
    _checked_post()
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.event_id != event_id:
        abort(404)
    outbox.retry(message)
    flash(_("Queued again for %(email)s.", email=message.recipient), "success")
    return redirect(url_for("followup.emails", event_id=event_id, status=request.args.get("status")))
