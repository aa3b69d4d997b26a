"""The sign-up form other websites show inside their pages, and the script that embeds it."""

from __future__ import annotations

import os

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from markupsafe import Markup

from ..api.schemas import is_slug
from ..events import queries
from ..extensions import csrf, limiter
from ..framing import allow_framing
from ..models import Event
from ..registrations import service as registrations
from ..urls import external_url
from .forms import EmbedRegistrationForm
from .security import EmbedRequestRefused, check_post, issue_token

bp = Blueprint("embed", __name__)


def snippet(event: Event) -> str:
    """The one line an organizer pastes into a page of their website."""
    source = external_url("embed.script")
    return str(Markup('<script src="{}" data-webinar="{}" async></script>').format(source, event.slug))


@bp.route("/embed.js")
def script() -> ResponseReturnValue:
    response = send_from_directory(
        os.path.join(current_app.root_path, "static"), "embed.js", mimetype="text/javascript", max_age=3600
    )
    # Loaded by pages of other sites, including those that require it of every resource (COEP).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _public_event(slug: str, *, for_registration: bool = False) -> Event:
    # A hostile slug (a NUL byte, a megabyte) is simply not found, never sent to the database.
    event = queries.public_by_slug(slug, for_registration=for_registration) if is_slug(slug) else None
    if event is None:
        abort(404)
    return event


def _lang() -> str:
    return str(get_locale() or "en")


def _page(
    event: Event, form: EmbedRegistrationForm, status: int = 200, **context: object
) -> ResponseReturnValue:
    allow_framing(event.embed_origin_list)
    form.embed_token.data = issue_token(event)
    return render_template("embed/form.html", event=event, form=form, lang=_lang(), **context), status


@bp.route("/embed/webinars/<slug>")
def form(slug: str) -> ResponseReturnValue:
    event = _public_event(slug)
    return _page(event, EmbedRegistrationForm())


@bp.route("/embed/webinars/<slug>", methods=["POST"])
@csrf.exempt  # protected by its own token and an Origin check instead: see security.py
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"])
def register(slug: str) -> ResponseReturnValue:
    event = _public_event(slug, for_registration=True)
    form = EmbedRegistrationForm()
    try:
        check_post(event, form.embed_token.data)
    except EmbedRequestRefused:
        return _page(event, form, 400, expired=True)
    if not form.validate():
        return _page(event, form, 400)
    if form.website.data:  # a bot filled in the honeypot: answer as usual, do nothing
        return redirect(url_for("embed.registered", slug=event.slug, lang=_lang()))
    try:
        registrations.register(
            event,
            name=form.name.data,
            email=form.email.data,
            organisation=form.organisation.data or "",
            consent=form.consent.data,
            timezone=form.visitor_timezone(),
            locale=_lang(),
        )
    except registrations.RegistrationRefused:
        return _page(event, form, 409)
    return redirect(url_for("embed.registered", slug=slug, lang=_lang()))


@bp.route("/embed/webinars/<slug>/registered")
def registered(slug: str) -> ResponseReturnValue:
    """The same answer for a new and a repeated sign-up, as on the webinar's own page."""
    event = _public_event(slug)
    allow_framing(event.embed_origin_list)
    return render_template("embed/registered.html", event=event, lang=_lang())
