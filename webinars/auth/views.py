from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
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
from flask_babel import ngettext
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from .. import ratelimits
from ..extensions import limiter
from ..forms import apply_rule_error
from ..models import TokenScope
from ..permissions import require_admin, signed_in
from ..rules import RuleError
from . import service
from . import tokens as api_tokens
from .forms import (
    AccountForm,
    AccountStateForm,
    ApiTokenForm,
    ChangePasswordForm,
    EditOrganizerForm,
    ForgotPasswordForm,
    InviteOrganizerForm,
    LoginForm,
    NewPasswordForm,
    RemoveOrganizerForm,
)
from .sessions import start_session

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("manage.dashboard")


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
        user = service.create_first_admin(form.email.data, form.name.data, form.password.data)
        if user is None:  # someone else finished set-up a moment ago
            return redirect(url_for("auth.login"))
        start_session(user)
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
            start_session(user, remember=bool(form.remember.data))
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
@signed_in
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.password.data)
        except RuleError as error:
            apply_rule_error(form, error, fallback="current")
        else:
            start_session(
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
        start_session(user)
        flash(_("Your new password is set. Other devices are signed out."), "success")
        return redirect(url_for("manage.dashboard"))
    return render_template("auth/reset_password.html", form=form)


@bp.after_request
def _reset_links_stay_private(response: Response) -> Response:
    if request.endpoint in ("auth.reset_password", "auth.setup"):
        # The URL is the credential: keep it out of Referer headers and shared caches.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/manage/organizers", methods=["GET", "POST"])
@signed_in
def organizers() -> ResponseReturnValue:
    """Every account, and the invitation of a new organizer by email (they choose their own password)."""
    require_admin()
    form = InviteOrganizerForm()
    if form.validate_on_submit():
        try:
            invitation = service.invite_organizer(
                current_user, form.email.data, make_admin=form.is_admin.data
            )
        except RuleError as error:
            apply_rule_error(form, error, fallback="email")
        else:
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("auth.organizers"))
    return render_template(
        "auth/organizers.html",
        form=form,
        users=service.organizers(),
        invitations=service.open_account_invitations(),
        state_form=AccountStateForm(),
    )


@bp.route("/manage/organizers/<int:user_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_organizer(user_id: int) -> ResponseReturnValue:
    require_admin()
    user = service.organizer(user_id) or abort(404)
    form = EditOrganizerForm()
    if request.method == "GET":
        form.name.data, form.email.data, form.is_admin.data = user.name, user.email, user.is_admin
    elif form.validate_on_submit():
        try:
            service.update_organizer(
                current_user, user, name=form.name.data, email=form.email.data, is_admin=form.is_admin.data
            )
        except RuleError as error:
            apply_rule_error(form, error, fallback="name")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("auth.organizers"))
    return render_template("auth/edit_organizer.html", form=form, user=user)


@bp.route("/manage/organizers/<int:user_id>/remove", methods=["GET", "POST"])
@signed_in
def remove_organizer(user_id: int) -> ResponseReturnValue:
    """Remove an account; the administrator picks who takes over its webinars and series."""
    require_admin()
    user = service.organizer(user_id) or abort(404)
    form = RemoveOrganizerForm()
    form.heir.choices = [
        SelectChoice(other.id, f"{other.name} <{other.email}>")
        for other in service.organizers()
        if other.id != user.id and other.active
    ]
    if form.validate_on_submit():
        try:
            moved = service.remove_organizer(current_user, user, service.organizer(form.heir.data))
        except RuleError as error:
            apply_rule_error(form, error, fallback="heir")
        else:
            flash(
                ngettext(
                    "The account is removed; %(num)s webinar moved to its new owner.",
                    "The account is removed; %(num)s webinars moved to their new owner.",
                    moved,
                ),
                "success",
            )
            return redirect(url_for("auth.organizers"))
    return render_template("auth/remove_organizer.html", form=form, user=user)


@bp.route("/manage/organizers/invitations/<int:invitation_id>/resend", methods=["POST"])
@signed_in
def resend_organizer_invitation(invitation_id: int) -> ResponseReturnValue:
    require_admin()
    invitation = service.account_invitation(invitation_id) or abort(404)
    if not AccountStateForm().validate_on_submit():
        abort(400)
    try:
        service.resend_invitation(invitation)
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
    else:
        flash(
            _(
                "Invitation sent again to %(email)s; the earlier link no longer works.",
                email=invitation.email,
            ),
            "success",
        )
    return redirect(url_for("auth.organizers"))


@bp.route("/manage/organizers/invitations/<int:invitation_id>/revoke", methods=["POST"])
@signed_in
def revoke_organizer_invitation(invitation_id: int) -> ResponseReturnValue:
    require_admin()
    invitation = service.account_invitation(invitation_id) or abort(404)
    if not AccountStateForm().validate_on_submit():
        abort(400)
    service.revoke_invitation(invitation)
    flash(_("Invitation to %(email)s revoked: its link no longer works.", email=invitation.email), "success")
    return redirect(url_for("auth.organizers"))


@bp.route("/manage/organizers/<int:user_id>/<any(enable, disable):action>", methods=["POST"])
@signed_in
def set_account_state(user_id: int, action: str) -> ResponseReturnValue:
    require_admin()
    user = service.organizer(user_id) or abort(404)
    if not AccountStateForm().validate_on_submit():
        abort(400)
    try:
        service.set_active(current_user, user, action == "enable")
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
    else:
        if action == "enable":
            flash(_("%(name)s can sign in again.", name=user.name), "success")
        else:
            flash(_("%(name)s is disabled and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("auth.organizers"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@signed_in
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
@signed_in
def revoke_token(token_id: int) -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        abort(400)
    if api_tokens.revoke(current_user, token_id):
        flash(_("Token revoked: it no longer works."), "success")
    return redirect(url_for("auth.tokens"))
