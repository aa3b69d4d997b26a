"""The attendee's private manage page, reached through the unguessable link in every email."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import csrf, db
from ..ical import links
from ..mail import notifications
from ..models import Registration, RegistrationStatus
from ..security import private_link_headers
from . import service
from .forms import CancelForm

bp = Blueprint("registrations", __name__, url_prefix="/r")


bp.after_request(private_link_headers)


@bp.route("/<token>")
def manage(token: str) -> ResponseReturnValue:
    registration = service.get_by_token(token) or abort(404)
    event = registration.event
    join_url = registration.join_url
    return render_template(
        "registrations/manage.html",
        registration=registration,
        event=event,
        confirmed=registration.can_join,
        join_url=join_url,
        phase=event.phase,
        google_url=links.google_url(event, join_url),
        outlook_url=links.outlook_url(event, join_url),
        form=CancelForm(),
    )


@bp.route("/<token>/cancel", methods=["POST"])
def cancel(token: str) -> ResponseReturnValue:
    registration = service.get_by_token(token) or abort(404)
    if not CancelForm().validate_on_submit():
        abort(400)
    service.cancel(registration)
    flash(_("Your registration is cancelled. Thank you for letting us know."), "success")
    return redirect(url_for("registrations.manage", token=token))


@bp.route("/<token>/register-again", methods=["POST"])
def register_again(token: str) -> ResponseReturnValue:
    registration = service.get_by_token(token) or abort(404)
    if not CancelForm().validate_on_submit():
        abort(400)
    try:
        outcome = service.register_again(registration)
    except service.RegistrationRefused:
        flash(_("Registration for this webinar is closed."), "error")
    else:
        if outcome.status == RegistrationStatus.CONFIRMED:
            flash(_("You are registered again. Your invitation is on its way."), "success")
        else:
            flash(_("You are on the waitlist again."), "success")
    return redirect(url_for("registrations.manage", token=token))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mailbox providers POST "List-Unsubscribe=One-Click" with no session
def unsubscribe(token: str) -> ResponseReturnValue:
    """Stop reminders and organizer messages for one webinar. GET asks; POST (one click) does it."""
    registration_id = notifications.registration_id_from_unsubscribe(token)
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        abort(404)
    if request.method == "POST":
        service.unsubscribe(registration)
    return render_template(
        "registrations/unsubscribe.html",
        registration=registration,
        event=registration.event,
        done=registration.unsubscribed_at is not None,
    )
