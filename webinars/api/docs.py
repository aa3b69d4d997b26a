"""The API's browsable page: Swagger UI, served from the app (from the swagger-ui-bundle package)."""

from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory
from flask.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")

_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}


@bp.route("/")
def page() -> ResponseReturnValue:
    return render_template("api/docs.html")


@bp.route("/assets/<name>")
def asset(name: str) -> ResponseReturnValue:
    if name not in _ASSETS:
        return "", 404
    return send_from_directory(str(swagger_ui_path), name, max_age=86400)
