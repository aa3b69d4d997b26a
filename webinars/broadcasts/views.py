"""Broadcasts: organizer messages to attendees (the recording follow-up is one), attendance, the email log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from ..extensions import db
from ..forms import apply_rule_error, enum_arg
from ..mail import outbox
from ..mail.forms import RetryFailedForm
from ..models import Audience, Broadcast, OutboxMessage, OutboxStatus, Registration
from ..permissions import Capability, event_for, part_of, require_sign_in
from ..registrations import service as registrations
from ..rules import RuleError
from ..timefmt import period_in_zone
from . import service
from .forms import AUDIENCE_LABELS, MESSAGE_AUDIENCES, MessageForm, RecordingForm

bp = Blueprint("broadcasts", __name__, url_prefix="/manage/webinars/<int:event_id>")


require_sign_in(bp)


def _checked_post() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


@bp.route("/messages/new", methods=["GET", "POST"])
def new_message(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
    form = MessageForm()
    sizes = {key: service.audience_size(event.id, key) for key in MESSAGE_AUDIENCES}
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
            return redirect(url_for("broadcasts.message", event_id=event.id, broadcast_id=broadcast.id))
        preview = service.preview(event, subject=form.subject.data, body_md=form.body.data)
    return render_template(
        "broadcasts/new_message.html", event=event, form=form, sizes=sizes, preview=preview
    )


@bp.route("/messages/<int:broadcast_id>")
def message(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    broadcast = part_of(event, Broadcast, broadcast_id)
    progress = service.progress(broadcast)
    return render_template(
        "broadcasts/message.html",
        event=event,
        broadcast=broadcast,
        progress=progress,
        progress_summary=_progress_summary(progress),
        audience=AUDIENCE_LABELS[broadcast.audience],
    )


def _progress_summary(progress: service.Progress) -> str:
    if progress.done:
        return str(_("All done."))
    return str(
        ngettext(
            "Sending… %(sent)s of %(num)s sent.",
            "Sending… %(sent)s of %(num)s sent.",
            progress.total,
            sent=progress.sent,
        )
    )


@bp.route("/messages/<int:broadcast_id>/progress")
def message_progress(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    """The numbers of the message page, for its script to update the page without reloading it."""
    event = event_for(event_id, Capability.VIEW)
    broadcast = part_of(event, Broadcast, broadcast_id)
    progress = service.progress(broadcast)
    response = jsonify(
        done=progress.done,
        fields={
            "percent": progress.percent,
            "percent_text": f"{progress.percent}%",
            "total": progress.total,
            "sent": progress.sent,
            "queued": progress.queued,
            "failed": progress.failed,
            "summary": _progress_summary(progress),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/recording", methods=["GET", "POST"])
def recording(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
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
            apply_rule_error(form, error, fallback="recording_url")
            return render_template("broadcasts/recording.html", event=event, form=form)
        if form.notify.data and event.recording_url:
            broadcast = service.announce_recording(event, current_user, Audience(form.notify.data))
            flash(_("Recording saved; the email is on its way."), "success")
            return redirect(url_for("broadcasts.message", event_id=event.id, broadcast_id=broadcast.id))
        flash(_("Recording saved."), "success")
        return redirect(url_for("manage.event", event_id=event.id))
    return render_template("broadcasts/recording.html", event=event, form=form)


@bp.route("/registrations/<int:registration_id>/resend", methods=["POST"])
def resend(event_id: int, registration_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
    _checked_post()
    registration = part_of(event, Registration, registration_id)
    try:
        registrations.resend(registration)
    except RuleError:
        abort(409)
    flash(_("Invitation queued again for %(email)s.", email=registration.email), "success")
    return redirect(request.referrer or url_for("manage.registrations", event_id=event_id))


@bp.route("/registrations/<int:registration_id>/attendance", methods=["POST"])
def attendance(event_id: int, registration_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
    _checked_post()
    registration = part_of(event, Registration, registration_id)
    value = {"attended": True, "absent": False}.get(request.form.get("attended", ""))
    registrations.set_attendance(registration, value)
    return redirect(request.referrer or url_for("manage.registrations", event_id=event_id))


@bp.route("/emails")
def emails(event_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.VIEW)
    status = enum_arg(OutboxStatus, request.args.get("status"))
    page = db.paginate(
        service.email_log(event, status), per_page=current_app.config["PER_PAGE"], error_out=False
    )
    return render_template(
        "broadcasts/emails.html",
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
    event = event_for(event_id, Capability.EDIT)
    form = RetryFailedForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("broadcasts.emails", event_id=event.id, status=OutboxStatus.FAILED))
    since, until = period_in_zone(event.timezone, form.since.data, form.until.data)
    count = outbox.retry_failed(event_id=event.id, since=since, until=until)
    flash(_("%(count)s failed email(s) queued again.", count=count), "success")
    return redirect(url_for("broadcasts.emails", event_id=event.id))


@bp.route("/emails/<int:message_id>/retry", methods=["POST"])
def retry(event_id: int, message_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
    _checked_post()
    message = part_of(event, OutboxMessage, message_id)
    outbox.retry(message)
    flash(_("Queued again for %(email)s.", email=message.recipient), "success")
    return redirect(url_for("broadcasts.emails", event_id=event_id, status=request.args.get("status")))
