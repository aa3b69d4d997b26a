"""Broadcasts: organizer messages to attendees (the recording follow-up is one), attendance, the email log."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm

from ..database import MAX_ID
from ..extensions import db
from ..forms import apply_rule_error, enum_arg
from ..mail import outbox
from ..mail.forms import RetryFailedForm
from ..massmail import service as massmail
from ..massmail.forms import ReviewForm
from ..models import Audience, Broadcast, Event, MailKind, OutboxMessage, OutboxStatus, Registration
from ..permissions import Capability, event_for, part_of, require_sign_in
from ..registrations import service as registrations
from ..rules import RuleError
from ..security import email_preview_policy
from ..timefmt import period_in_zone
from . import service
from .forms import AUDIENCE_LABELS, MESSAGE_AUDIENCES, MessageForm, RecordingForm

bp = Blueprint("broadcasts", __name__, url_prefix="/manage/webinars/<int:event_id>")


require_sign_in(bp)


def _checked_post() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _draft(event: Event, value: str | None) -> Broadcast | None:
    """The unconfirmed message being written again (after its preview, or a selection's)."""
    if not value or not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        return None
    broadcast = part_of(event, Broadcast, int(value))
    if broadcast.confirmed_at is not None or broadcast.kind != MailKind.MESSAGE:
        abort(404)
    return broadcast


@bp.route("/messages/new", methods=["GET", "POST"])
def new_message(event_id: int) -> ResponseReturnValue:
    """Write a message; "Preview" stores it unsent and opens its review (nothing leaves from here)."""
    event = event_for(event_id, Capability.EDIT)
    draft = _draft(event, request.args.get("draft"))
    selection = draft is not None and draft.audience == Audience.SELECTED
    form = MessageForm()
    if selection:
        del form.audience  # the people were chosen on the attendee list
    if request.method == "GET" and draft is not None:
        form.subject.data = draft.subject
        form.body.data = draft.body_md
        if not selection:
            form.audience.data = draft.audience
    if form.validate_on_submit():
        audience = None if selection else form.audience.data
        try:
            if draft is not None:
                massmail.revise(draft, audience=audience, subject=form.subject.data, body_md=form.body.data)
            else:
                draft = service.draft_message(
                    event,
                    current_user,
                    audience=audience or Audience.CONFIRMED,
                    subject=form.subject.data,
                    body_md=form.body.data,
                )
        except RuleError as error:
            apply_rule_error(form, error, fallback="subject")
        else:
            return redirect(url_for("broadcasts.review", event_id=event.id, broadcast_id=draft.id))
    sizes = {} if selection else {key: service.audience_size(event.id, key) for key in MESSAGE_AUDIENCES}
    return render_template(
        "broadcasts/new_message.html",
        event=event,
        form=form,
        sizes=sizes,
        selected=massmail.count(draft) if selection and draft is not None else None,
    )


def _language(languages: list[massmail.Language], wanted: str | None) -> str:
    codes = [language.code for language in languages]
    return wanted if wanted in codes else (codes[0] if codes else "en")


@bp.route("/messages/<int:broadcast_id>/review")
def review(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    """A send before it leaves: per language, as its recipients will get it, with a test to oneself
    and the confirmation that names how many people it goes to."""
    event = event_for(event_id, Capability.EDIT)
    broadcast = part_of(event, Broadcast, broadcast_id)
    if broadcast.confirmed_at is not None:
        return redirect(url_for("broadcasts.message", event_id=event.id, broadcast_id=broadcast.id))
    languages = massmail.languages(broadcast)
    language = _language(languages, request.args.get("email_lang"))
    total = sum(entry.recipients for entry in languages)
    return render_template(
        "broadcasts/review.html",
        event=event,
        broadcast=broadcast,
        send_languages=languages,
        send_language=language,
        total=total,
        rendered=massmail.render(broadcast, language) if languages else None,
        form=ReviewForm(formdata=None, language=language, expected=total),
        language_name=massmail.language_name,
        switch_urls={
            entry.code: url_for(
                "broadcasts.review", event_id=event.id, broadcast_id=broadcast.id, email_lang=entry.code
            )
            for entry in languages
        },
    )


@bp.route("/messages/<int:broadcast_id>/preview.html")
@email_preview_policy
def preview_html(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    """The HTML body alone, for the review's frame: the email's own inline styles apply here (and
    only here: the policy allows nothing else, and the frame is sandboxed)."""
    event = event_for(event_id, Capability.EDIT)
    broadcast = part_of(event, Broadcast, broadcast_id)
    language = _language(massmail.languages(broadcast), request.args.get("email_lang"))
    return Response(massmail.render(broadcast, language)["body_html"], mimetype="text/html")


@bp.route("/messages/<int:broadcast_id>/test", methods=["POST"])
def send_test(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    event = event_for(event_id, Capability.EDIT)
    broadcast = part_of(event, Broadcast, broadcast_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    language = _language(massmail.languages(broadcast), form.language.data)
    massmail.send_test(broadcast, language, current_user)
    flash(
        _("A test is on its way to %(email)s. It does not count as sent.", email=current_user.email),
        "success",
    )
    return redirect(
        url_for("broadcasts.review", event_id=event.id, broadcast_id=broadcast.id, email_lang=language)
    )


@bp.route("/messages/<int:broadcast_id>/send", methods=["POST"])
def send(event_id: int, broadcast_id: int) -> ResponseReturnValue:
    """The confirmation: only now does the worker start writing to people."""
    event = event_for(event_id, Capability.EDIT)
    broadcast = part_of(event, Broadcast, broadcast_id)
    if broadcast.kind not in (MailKind.MESSAGE, MailKind.RECORDING):
        abort(400)  # a cancellation notice is confirmed by cancelling (manage.confirm_cancel)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        massmail.confirm(broadcast, form.expected.data)
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
        return redirect(url_for("broadcasts.review", event_id=event.id, broadcast_id=broadcast.id))
    flash(_("Your message is on its way."), "success")
    return redirect(url_for("broadcasts.message", event_id=event.id, broadcast_id=broadcast.id))


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
        audience=AUDIENCE_LABELS.get(broadcast.audience, _("The people you selected")),
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
            draft = service.draft_recording(event, current_user, Audience(form.notify.data))
            flash(_("Recording saved. Check the email below, then confirm to send it."), "success")
            return redirect(url_for("broadcasts.review", event_id=event.id, broadcast_id=draft.id))
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
