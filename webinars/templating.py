"""Jinja filters and globals."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from . import labels, languages, site, timefmt, topics, validators
from .images import service as images
from .models import Audience, Event, EventStatus, MailKind, OutboxStatus, RegistrationStatus, Series
from .permissions import ROLE_LABELS, Capability, may


def _can(capability: str, target: Event | Series) -> bool:
    """Whether the signed-in organizer holds ``capability`` on ``target``: pages offer only what the
    routes will accept (the routes check again)."""
    return bool(current_user.is_authenticated and may(current_user, Capability(capability), target))


def _url_with(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (pagination, language).

    The query string is built here, not by url_for: a visitor's ``?slug=`` or ``?_scheme=`` must not
    collide with the route's own values or steer url_for's options.
    """
    args = request.args.to_dict()
    args.update({key: value for key, value in changes.items() if value is not None})
    if request.endpoint:
        path = url_for(request.endpoint, **(request.view_args or {}))
    else:  # an error page for a URL that matched no route
        path = url_for("events.index")
    return f"{path}?{urlencode(args)}" if args else path


def _lang_of(item: Any) -> Markup:
    """` lang="es"` for an element that holds a webinar's or series' own text (title, description,
    speakers), which may be in another language than the page around it: screen readers then read it
    with the right voice, and browsers offer to translate the right thing."""
    return Markup(' lang="{}"').format(item.language or current_app.config["BABEL_DEFAULT_LOCALE"])


def _in_own_language(text: str, item: Any) -> Markup:
    """``text`` (a title inside a translated sentence) marked with the language of ``item``."""
    return Markup('<span lang="{}">{}</span>').format(
        item.language or current_app.config["BABEL_DEFAULT_LOCALE"], text
    )


def _brand_address(endpoint: str, brand: site.Brand) -> str | None:
    # Emails (rendered by the worker, outside any request) show neither the stylesheet nor the logo.
    return url_for(endpoint, version=brand.version) if has_request_context() else None


def register(app: Flask) -> None:
    app.jinja_env.filters["in_zone"] = timefmt.in_zone
    app.jinja_env.filters["in_utc"] = timefmt.in_utc
    app.jinja_env.filters["in_zone_named"] = timefmt.in_zone_named
    app.jinja_env.filters["iso_utc"] = timefmt.iso_utc
    app.jinja_env.globals["times_for_reader"] = timefmt.times_for_reader
    app.jinja_env.filters["topic_label"] = topics.label
    app.jinja_env.filters["label"] = labels.label
    app.jinja_env.filters["language_name"] = languages.in_text
    app.jinja_env.globals["url_with"] = _url_with
    app.jinja_env.globals["lang_of"] = _lang_of
    app.jinja_env.filters["in_own_language"] = _in_own_language
    app.jinja_env.globals["get_locale"] = get_locale
    # Templates compare with the enums, never with their spelled-out values.
    for enum in (EventStatus, RegistrationStatus, OutboxStatus, MailKind, Audience):
        app.jinja_env.globals[enum.__name__] = enum
    app.jinja_env.globals["image_url"] = images.url
    app.jinja_env.globals["image_srcset"] = images.srcset
    app.jinja_env.globals["can"] = _can
    app.jinja_env.globals["role_labels"] = ROLE_LABELS
    app.jinja_env.globals["failed_page_forms"] = validators.failed_page_forms
    app.jinja_env.globals["error_entries"] = validators.error_entries

    @app.context_processor
    def _site() -> dict[str, Any]:
        # Pages and emails alike: the brand is read once per request (see webinars.site).
        brand = site.brand()
        return {
            "brand": brand,
            "site_name": brand.name,
            "brand_stylesheet": _brand_address("branding.stylesheet", brand) if brand.accent_color else None,
            "brand_svg_logo": _brand_address("branding.logo_svg", brand) if brand.has_svg_logo else None,
            "languages": languages.menu(),
        }
