"""Jinja filters and globals."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, has_request_context, request, url_for
from flask_babel import get_locale

from . import site, timefmt, topics
from .images import service as images
from .models import Audience, EventStatus, MailKind, OutboxStatus, RegistrationStatus


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


def _brand_address(endpoint: str, brand: site.Brand) -> str | None:
    # Emails (rendered by the worker, outside any request) show neither the stylesheet nor the logo.
    return url_for(endpoint, version=brand.version) if has_request_context() else None


def register(app: Flask) -> None:
    app.jinja_env.filters["in_zone"] = timefmt.in_zone
    app.jinja_env.filters["in_utc"] = timefmt.in_utc
    app.jinja_env.filters["in_zone_named"] = timefmt.in_zone_named
    app.jinja_env.filters["iso_utc"] = timefmt.iso_utc
    app.jinja_env.filters["topic_label"] = topics.label
    app.jinja_env.globals["url_with"] = _url_with
    app.jinja_env.globals["get_locale"] = get_locale
    # Templates compare with the enums, never with their spelled-out values.
    for enum in (EventStatus, RegistrationStatus, OutboxStatus, MailKind, Audience):
        app.jinja_env.globals[enum.__name__] = enum
    app.jinja_env.globals["image_url"] = images.url
    app.jinja_env.globals["image_srcset"] = images.srcset

    @app.context_processor
    def _site() -> dict[str, Any]:
        # Pages and emails alike: the brand is read once per request (see webinars.site).
        brand = site.brand()
        return {
            "brand": brand,
            "site_name": brand.name,
            "brand_stylesheet": _brand_address("branding.stylesheet", brand) if brand.accent_color else None,
            "brand_svg_logo": _brand_address("branding.logo_svg", brand) if brand.has_svg_logo else None,
            "languages": {"en": "English", "es": "Español", "pt": "Português"},
        }
