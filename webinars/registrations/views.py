"""The attendee's private manage page, reached through the unguessable link in every email."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..calendar import links
from ..extensions import csrf, db
from ..mail import notifications
from ..messages import service as followup
from ..models import Registration, RegistrationStatus
from ..privacy import service as privacy
from . import service
from .forms import CancelForm

bp = Blueprint("registrations", __name__, url_prefix="/r")


@bp.after_request
def _private(response):  # type: ignore[no-untyped-def]
    # The URL is the credential: keep it out of shared caches and of Referer headers.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/<token>")
def manage(token: str) -> ResponseReturnValue:
    registration = service.get_by_token(token) or abort(404)
    event = registration.event
    confirmed = registration.status == RegistrationStatus.CONFIRMED and not event.is_cancelled
    join_url = event.join_url if confirmed else None
    return render_template(
        "registrations/manage.html",
        registration=registration,
        event=event,
        confirmed=confirmed,
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
        if outcome.registration.status == RegistrationStatus.CONFIRMED:
            flash(_("You are registered again. Your invitation is on its way."), "success")
        else:
            flash(_("You are on the waitlist again."), "success")
    return redirect(url_for("registrations.manage", token=token))


@bp.route("/<token>/data.json")
def personal_data(token: str) -> ResponseReturnValue:
    """Everything stored about this registration, as a JSON download."""
    registration = service.get_by_token(token) or abort(404)
    response = jsonify(privacy.personal_data(registration))
    response.headers["Content-Disposition"] = 'attachment; filename="my-registration.json"'
    return response


@bp.route("/<token>/erase", methods=["POST"])
def erase(token: str) -> ResponseReturnValue:
    registration = service.get_by_token(token) or abort(404)
    if not CancelForm().validate_on_submit():
        abort(400)
    slug = registration.event.slug
    privacy.erase(registration)
    return render_template("registrations/erased.html", slug=slug)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mailbox providers POST "List-Unsubscribe=One-Click" with no session
def unsubscribe(token: str) -> ResponseReturnValue:
    """Stop reminders and organizer messages for one webinar. GET asks; POST (one click) does it."""
    registration_id = notifications.registration_id_from_unsubscribe(token)
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        abort(404)
    if request.method == "POST":
        followup.unsubscribe(registration)
    return render_template(
        "registrations/unsubscribe.html",
        registration=registration,
        event=registration.event,
        done=registration.unsubscribed_at is not None,
    )
