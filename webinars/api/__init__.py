"""The JSON API under /api/v1, described by an OpenAPI 3.1 document built from the code.

flask-smorest (marshmallow schemas, apispec) was chosen because it plugs into the plain Flask app and
blueprints this project already has (no replacement application class), parses and validates
arguments with field-by-field messages, and writes the OpenAPI document, ETags and 304s from the same
decorators that serve the requests; see the README.
"""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from ..extensions import csrf
from . import docs, hooks, organizer, public
from .auth import SECURITY_SCHEME
from .problems import CONTENT_TYPE
from .schemas import ProblemSchema


class WebinarsApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        # The app's own handlers answer problem+json under /api/ and HTML pages elsewhere.
        return None

    def _register_responses(self) -> None:
        # As flask-smorest's, but errors are documented with their real media type.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error, as RFC 9457 problem details.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = WebinarsApi()

DESCRIPTION = """Published webinars and sign-up (no token), and the organizer's webinars,
registrations, export, email log and webhook endpoints (with a personal API token from the
account page, sent as `Authorization: Bearer <token>`). Errors are RFC 9457 problem details with
per-field `errors`.
Reads carry an ETag (send it back in `If-None-Match` for a 304); lists are numbered pages with
`meta.links` and a `Link` header."""


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Webinars API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": DESCRIPTION}})
    api.init_app(app)
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "A personal API token from your account page."},
    )
    for blueprint in (public.blp, organizer.blp, hooks.blp):
        csrf.exempt(blueprint)  # token auth, never the session cookie: see auth.py
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
