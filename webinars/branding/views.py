"""The administrators' settings page for the brand, and the generated stylesheet and SVG logo."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import site
from ..forms import apply_rule_error
from ..permissions import require_admin, require_sign_in
from ..rules import RuleError
from . import service
from .forms import BrandForm

bp = Blueprint("branding", __name__)
manage_bp = Blueprint("branding_manage", __name__, url_prefix="/manage/brand")

require_sign_in(manage_bp)
manage_bp.before_request(require_admin)

# The version in the address changes with every save, so a browser may keep a copy for a year; an
# address with an old version (a page cached before the save) gets the current content, briefly cached.
ONE_YEAR = 365 * 24 * 3600
STALE_VERSION_MAX_AGE = 300
# An SVG opened on its own is a document: no script, no plugins, nothing fetched; styles inside it
# (a logo's fills) may apply.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def _cached(response: Response, version: int) -> Response:
    current = site.brand().version
    response.cache_control.public = True
    if version == current:
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = STALE_VERSION_MAX_AGE
    return response


@bp.route("/brand-<int:version>.css")
def stylesheet(version: int) -> ResponseReturnValue:
    response = Response(service.stylesheet(site.brand()), mimetype="text/css")
    return _cached(response, version)


@bp.route("/brand-<int:version>/logo.svg")
def logo_svg(version: int) -> ResponseReturnValue:
    text = service.svg_logo()
    if text is None:
        abort(404)
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return _cached(response, version)


@manage_bp.route("/", methods=["GET", "POST"])
def edit() -> ResponseReturnValue:
    settings = site.load_settings()
    form = BrandForm()
    if not form.is_submitted():
        form.fill_from(settings)
    if form.validate_on_submit():
        try:
            service.update(form.to_data())
        except RuleError as error:
            apply_rule_error(form, error, fallback="site_name")
        else:
            flash(_("Site settings saved. Every page shows them now."), "success")
            return redirect(url_for("branding_manage.edit"))
    status = 400 if form.errors else 200
    return render_template("branding/edit.html", form=form, settings=settings), status
