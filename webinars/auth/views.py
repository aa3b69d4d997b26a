from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import ratelimits
from ..database import writing
from ..extensions import db, limiter
from ..models import TokenScope, User
from . import service
from . import tokens as api_tokens
from .forms import (
    AccountForm,
    AccountStateForm,
    ApiTokenForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    OrganizerForm,
)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("manage.dashboard")


def _apply_rule_errors(form: FlaskForm, error: service.RuleError) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors.append(message)
        else:
            flash(message, "error")


def _start_session(user: User, *, remember: bool = False) -> None:
    """A fresh session for the account: nothing carried over from before sign-in but the language.

    The CSRF token goes with it, so a token seen before sign-in is worth nothing after.
    """
    language = session.get("lang")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's copy of it
    if language:
        session["lang"] = language
    login_user(user, remember=remember)


@bp.route("/setup", methods=["GET", "POST"])
@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str | None = None) -> ResponseReturnValue:
    """Create the first administrator: only while no account exists, and, in production, only through
    the one-time link ``flask --app webinars organizers setup-link`` prints."""
    if not service.needs_setup():
        return redirect(url_for("auth.login"))
    if not current_app.config["SETUP_OPEN"] and not (token and service.setup_token_valid(token)):
        abort(404)
    form = AccountForm()
    if form.validate_on_submit():
        with writing():
            if not service.needs_setup():  # someone else finished set-up a moment ago
                return redirect(url_for("auth.login"))
            user = service.create_user(form.email.data, form.name.data, form.password.data, is_admin=True)
        _start_session(user)
        flash(_("Welcome! Your administrator account is ready."), "success")
        return redirect(url_for("manage.dashboard"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN"],
    key_func=ratelimits.client,
    methods=["POST"],
    deduct_when=ratelimits.failed_sign_in,
)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    key_func=ratelimits.account,
    methods=["POST"],
    deduct_when=ratelimits.failed_sign_in,
)
def login() -> ResponseReturnValue:
    if current_app.config["SETUP_OPEN"] and service.needs_setup():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(url_for("manage.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong email or password."))
    return render_template("auth/login.html", form=form, awaiting_setup=service.needs_setup())


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Signing out ends every session and remember-me cookie of the account, on every device."""
    if current_user.is_authenticated:
        service.end_sessions(current_user)
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("events.index"))


@bp.route("/manage/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.password.data)
        except service.RuleError as error:
            _apply_rule_errors(form, error)
        else:
            _start_session(
                current_user._get_current_object()
            )  # this browser stays signed in, with the new session version
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("manage.dashboard"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/login/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_PASSWORD_RESET"], key_func=ratelimits.account, methods=["POST"]
)
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], key_func=ratelimits.client, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        # The same answer whether or not the address has an account.
        flash(_("If an account uses this address, a link to choose a new password is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    user = service.user_for_reset_token(token)
    if user is None:
        flash(_("This link has expired or was already used. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        service.reset_password(user, form.password.data)
        _start_session(user)
        flash(_("Your new password is set. Other devices are signed out."), "success")
        return redirect(url_for("manage.dashboard"))
    return render_template("auth/reset_password.html", form=form)


@bp.after_request
def _reset_links_stay_private(response):  # type: ignore[no-untyped-def]
    if request.endpoint in ("auth.reset_password", "auth.setup"):
        # The URL is the credential: keep it out of Referer headers and shared caches.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "private, no-store"
    return response


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
    return render_template("auth/organizers.html", form=form, users=users, state_form=AccountStateForm())


@bp.route("/manage/organizers/<int:user_id>/<any(enable, disable):action>", methods=["POST"])
@login_required
def set_account_state(user_id: int, action: str) -> ResponseReturnValue:
    if not current_user.is_admin:
        abort(403)
    user = db.session.get(User, user_id) or abort(404)
    if not AccountStateForm().validate_on_submit():
        abort(400)
    try:
        service.set_active(current_user, user, action == "enable")
    except service.RuleError as error:
        for message in error.errors.values():
            flash(message, "error")
    else:
        if action == "enable":
            flash(_("%(name)s can sign in again.", name=user.name), "success")
        else:
            flash(_("%(name)s is disabled and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("auth.organizers"))


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
