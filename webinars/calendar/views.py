"""Calendar downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue

from .. import clock
from ..events import queries
from ..ical import ics
from ..registrations import service as registrations
from ..series import service as series_service
from . import feeds

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
    calendar = ics.new_calendar("PUBLISH")
    calendar.add_component(ics.build_vevent(event, stamp=clock.now(), private=registration.can_join))
    response = calendar_response(calendar.to_ical(), f"{event.slug}.ics")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _feed_response(body: bytes, content_type: str, filename: str) -> ResponseReturnValue:
    """A cacheable feed: a weak ETag from its content, 304 Not Modified on a matching If-None-Match."""
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.set_etag(feeds.content_etag(body), weak=True)
    # Stored by clients and proxies, but revalidated every time (the revalidation is cheap: 304).
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.add("Accept-Language")
    return response.make_conditional(request)


@bp.route("/calendar.ics")
def site_feed() -> ResponseReturnValue:
    """Every public webinar from 90 days ago on, to subscribe to (webcal:// or https://)."""
    return _feed_response(feeds.site_calendar(), CALENDAR_MIMETYPE, "webinars.ics")


@bp.route("/series/<slug>/calendar.ics")
def series_feed(slug: str) -> ResponseReturnValue:
    series = series_service.by_slug(slug) or abort(404)
    return _feed_response(feeds.series_calendar(series), CALENDAR_MIMETYPE, f"{series.slug}.ics")


@bp.route("/feeds/webinars.atom")
def atom_feed() -> ResponseReturnValue:
    """Newly announced webinars, for the programme's news site and feed readers."""
    return _feed_response(feeds.atom_feed(), "application/atom+xml; charset=utf-8", "webinars.atom")
