"""Public pages: lists of webinars, a webinar's page and its registration form."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from .. import ratelimits, sharing
from ..counters import SIGNUPS
from ..extensions import db, limiter
from ..ical import links
from ..models import Event
from ..pagecache import cached_page
from ..registrations import service as registrations
from ..registrations.forms import RegistrationForm, registration_form_for
from ..text import render_markdown
from . import queries
from .archive import ArchiveFilterForm

bp = Blueprint("events", __name__)


@bp.route("/")
@cached_page
def index() -> ResponseReturnValue:
    upcoming = db.paginate(queries.upcoming(), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("events/index.html", upcoming=upcoming)


@bp.route("/past")
@cached_page
def past() -> ResponseReturnValue:
    """The archive: past webinars with their recordings, searchable, by series and by topic."""
    form = ArchiveFilterForm.from_args(request.args)
    events = db.paginate(form.query(), per_page=current_app.config["PER_PAGE"], error_out=False)
    recordings = {event.id: render_markdown(event.recording_summary) for event in events.items}
    return render_template("events/past.html", events=events, form=form, recordings=recordings)


def _detail_page(event: Event, form: RegistrationForm, status_code: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "events/detail.html",
            event=event,
            form=form,
            description=render_markdown(event.description_md),
            recording_summary=render_markdown(event.recording_summary),
            card=sharing.event_card(event),
            json_ld=sharing.event_json_ld(event),
        ),
        status_code,
    )


@bp.route("/webinars/<slug>")
@cached_page
def detail(slug: str) -> ResponseReturnValue:
    event = queries.public_by_slug(slug) or abort(404)
    return _detail_page(event, registration_form_for(event, _locale()))


def _locale() -> str:
    return str(get_locale() or "en")


@bp.route("/webinars/<slug>", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], key_func=ratelimits.client)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_REGISTER_ADDRESS"], key_func=ratelimits.registered_address
)
def register(slug: str) -> ResponseReturnValue:
    event = queries.public_by_slug(slug, for_registration=True) or abort(404)
    form = registration_form_for(event, _locale())
    if not form.validate_on_submit():
        SIGNUPS.labels(outcome="invalid").inc()
        return _detail_page(event, form, 400 if request.form else 200)
    if form.website.data:  # a bot filled in the honeypot: answer as usual, do nothing
        SIGNUPS.labels(outcome="honeypot").inc()
        return redirect(url_for("events.registered", slug=event.slug))
    try:
        outcome = registrations.register(
            event,
            name=form.name.data,
            email=form.email.data,
            organisation=form.organisation.data or "",
            consent=form.consent.data,
            timezone=form.visitor_timezone(),
            locale=_locale(),
            answers=form.answers(),
        )
    except registrations.RegistrationRefused:
        SIGNUPS.labels(outcome="refused").inc()
        return _detail_page(event, form, 409)
    SIGNUPS.labels(outcome=str(outcome.status) if outcome.created else "repeated").inc()
    return redirect(url_for("events.registered", slug=slug))  # the URL's slug: no reload after commit


@bp.route("/webinars/<slug>/registered")
def registered(slug: str) -> ResponseReturnValue:
    """The same answer for a new and a repeated sign-up: nobody learns who registered."""
    event = queries.public_by_slug(slug) or abort(404)
    return render_template(
        "events/registered.html",
        event=event,
        google_url=links.google_url(event),
        outlook_url=links.outlook_url(event),
    )
