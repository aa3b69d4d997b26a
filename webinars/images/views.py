"""Serving stored pictures from the local folder."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, send_file
from flask.typing import ResponseReturnValue

from ..security import csp_sources
from .processing import CONTENT_TYPES
from .storage import SAFE_NAME, LocalStorage, storage

bp = Blueprint("images", __name__)

# A file never changes under its name (a new upload gets a new key): caches may keep it for a year.
ONE_YEAR = 365 * 24 * 3600


@bp.before_app_request
def _allow_image_host() -> None:
    """Pictures served from elsewhere (IMAGE_BASE_URL) must be allowed by the page's policy."""
    base = current_app.config["IMAGE_BASE_URL"]
    if base:
        parts = urlsplit(base)
        csp_sources("img-src", f"{parts.scheme}://{parts.netloc}")


@bp.route("/media/<name>")
def file(name: str) -> ResponseReturnValue:
    backend = storage()
    if not SAFE_NAME.match(name) or not isinstance(backend, LocalStorage):
        abort(404)
    path = backend.path(name)
    if not os.path.isfile(path):
        abort(404)
    response = send_file(
        path, mimetype=CONTENT_TYPES[name.rsplit(".", 1)[1]], max_age=ONE_YEAR, conditional=True, etag=True
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
