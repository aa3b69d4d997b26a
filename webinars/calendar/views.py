"""Calendar downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from flask.typing import ResponseReturnValue

from .. import clock
from ..events import queries
from ..models import RegistrationStatus
from ..registrations import service as registrations
from . import ics

bp = Blueprint("calendar", __name__)

CALENDAR_MIMETYPE = "text/calendar; charset=utf-8"


def calendar_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        content_type=CALENDAR_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/webinars/<slug>/calendar.ics")
def event_ics(slug: str) -> ResponseReturnValue:
    """METHOD:PUBLISH for one webinar: no attendees, no join link."""
    event = queries.public_by_slug(slug) or abort(404)
    body = ics.publish([event], stamp=clock.now()).to_ical()
    return calendar_response(body, f"{event.slug}.ics")


@bp.route("/r/<token>/calendar.ics")
def personal_ics(token: str) -> ResponseReturnValue:
    """The attendee's own copy: PUBLISH, with the join link once confirmed."""
    registration = registrations.get_by_token(token) or abort(404)
    event = registration.event
    private = registration.status == RegistrationStatus.CONFIRMED and not event.is_cancelled
    calendar = ics.new_calendar("PUBLISH")
    calendar.add_component(ics.build_vevent(event, stamp=clock.now(), private=private))
    response = calendar_response(calendar.to_ical(), f"{event.slug}.ics")
    response.headers["Cache-Control"] = "private, no-store"
    return response
