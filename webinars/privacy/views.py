"""The attendee's own data, from their private manage link: a copy of it, and erasure on request."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template
from flask.typing import ResponseReturnValue

from ..registrations import service as registrations
from ..registrations.forms import CancelForm
from ..security import private_link_headers
from . import service

bp = Blueprint("privacy", __name__, url_prefix="/r")


bp.after_request(private_link_headers)


@bp.route("/<token>/data.json")
def personal_data(token: str) -> ResponseReturnValue:
    """Everything stored about this registration, as a JSON download."""
    registration = registrations.get_by_token(token) or abort(404)
    response = jsonify(service.personal_data(registration))
    response.headers["Content-Disposition"] = 'attachment; filename="my-registration.json"'
    return response


@bp.route("/<token>/erase", methods=["POST"])
def erase(token: str) -> ResponseReturnValue:
    registration = registrations.get_by_token(token) or abort(404)
    if not CancelForm().validate_on_submit():
        abort(400)
    slug = registration.event.slug
    service.erase(registration)
    return render_template("registrations/erased.html", slug=slug)
