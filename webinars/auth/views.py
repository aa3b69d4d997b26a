from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from ..database import writing
from ..extensions import db, limiter
from ..models import TokenScope, User
from . import service
from . import tokens as api_tokens
from .forms import AccountForm, ApiTokenForm, LoginForm, OrganizerForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("manage.dashboard")


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> ResponseReturnValue:
    """Create the first administrator; only while no account exists."""
    if not service.needs_setup():
        return redirect(url_for("auth.login"))
    form = AccountForm()
    if form.validate_on_submit():
        with writing():
            if not service.needs_setup():  # someone else finished set-up a moment ago
                return redirect(url_for("auth.login"))
            user = service.create_user(form.email.data, form.name.data, form.password.data, is_admin=True)
        login_user(user)
        flash(_("Welcome! Your administrator account is ready."), "success")
        return redirect(url_for("manage.dashboard"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login() -> ResponseReturnValue:
    if service.needs_setup():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(url_for("manage.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong email or password."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("events.index"))


@bp.route("/manage/organizers", methods=["GET", "POST"])
@login_required
def organizers() -> ResponseReturnValue:
    if not current_user.is_admin:
        abort(403)
    form = OrganizerForm()
    if form.validate_on_submit():
        try:
            service.create_user(
                form.email.data, form.name.data, form.password.data, is_admin=form.is_admin.data
            )
        except service.AccountExists:
            form.email.errors.append(_("An account with this email already exists."))
        else:
            flash(_("Organizer account created."), "success")
            return redirect(url_for("auth.organizers"))
    users = db.session.scalars(select(User).order_by(User.name)).all()
    return render_template("auth/organizers.html", form=form, users=users)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> ResponseReturnValue:
    """Personal API tokens: create one (its secret is shown this once), see when each was last used."""
    form = ApiTokenForm()
    secret = None
    if form.validate_on_submit():
        _token, secret = api_tokens.create_token(current_user, form.name.data, TokenScope(form.scope.data))
        form = ApiTokenForm(formdata=None)
    response = make_response(
        render_template(
            "auth/tokens.html",
            form=form,
            secret=secret,
            tokens=api_tokens.tokens_of(current_user),
            action_form=FlaskForm(),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the page may carry a secret
    return response


@bp.route("/account/tokens/<int(max=2147483647):token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        abort(400)
    if api_tokens.revoke(current_user, token_id):
        flash(_("Token revoked: it no longer works."), "success")
    return redirect(url_for("auth.tokens"))
