"""Absolute links for emails and calendars, built from BASE_URL (there is no request in a worker)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def site_host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
