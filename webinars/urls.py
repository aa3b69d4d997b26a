"""Absolute links for emails and calendars, built from BASE_URL (there is no request in a worker)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from markupsafe import Markup


def external_url(endpoint: str, **values: Any) -> str:
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def site_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def embed_snippet(slug: str) -> str:
    """The one line an organizer pastes into a page of their website to show a webinar's sign-up form."""
    source = external_url("embed.script")
    return str(Markup('<script src="{}" data-webinar="{}" async></script>').format(source, slug))
