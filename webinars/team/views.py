"""Team pages of a webinar and of a series (owners only), the audit log, and the invitation link."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..auth import service as accounts
from ..auth.sessions import start_session
from ..database import get_by_id
from ..extensions import db
from ..forms import apply_rule_error
from ..models import Event, Invitation, Series
from ..permissions import Capability, Role, event_for, may, require_sign_in, series_for
from ..rules import RuleError
from . import service
from .forms import ActionForm, InviteForm, JoinForm, RoleForm, role_choices

bp = Blueprint("team", __name__)
manage_bp = Blueprint("team_manage", __name__, url_prefix="/manage")
require_sign_in(manage_bp)

Target = Event | Series


def _target(event_id: int | None, series_id: int | None) -> Target:
    if event_id is not None:
        return event_for(event_id, Capability.ADMINISTER)
    assert series_id is not None
    return series_for(series_id, Capability.ADMINISTER)


def _team_url(target: Target) -> str:
    if isinstance(target, Event):
        return url_for("team_manage.team", event_id=target.id)
    return url_for("team_manage.team", series_id=target.id)


def _render(target: Target, form: InviteForm) -> str:
    roles = service.roles_offered(target)
    role_form = RoleForm(formdata=None)
    role_form.role.choices = role_choices(roles)
    return render_template(
        "team/team.html",
        target=target,
        is_event=isinstance(target, Event),
        members=service.members(target),
        invitations=service.pending(target),
        form=form,
        role_form=role_form,
        action_form=ActionForm(),
        roles=roles,
    )


@manage_bp.route("/webinars/<int:event_id>/team", methods=["GET", "POST"])
@manage_bp.route("/series/<int:series_id>/team", methods=["GET", "POST"])
def team(event_id: int | None = None, series_id: int | None = None) -> ResponseReturnValue:
    target = _target(event_id, series_id)
    form = InviteForm()
    form.role.choices = role_choices(service.roles_offered(target))
    if request.method == "GET":
        form.role.data = Role.EDITOR.value
    elif form.validate_on_submit():
        try:
            invitation = service.invite(target, current_user, form.email.data, Role(form.role.data))
        except RuleError as error:
            apply_rule_error(form, error, fallback="email")
        else:
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return redirect(_team_url(target))
    return _render(target, form)


@manage_bp.route("/webinars/<int:event_id>/team/<int:user_id>/role", methods=["POST"])
@manage_bp.route("/series/<int:series_id>/team/<int:user_id>/role", methods=["POST"])
def change_role(
    user_id: int, event_id: int | None = None, series_id: int | None = None
) -> ResponseReturnValue:
    target = _target(event_id, series_id)
    user = service.member_account(user_id) or abort(404)
    form = RoleForm()
    form.role.choices = role_choices(service.roles_offered(target))
    if not form.validate_on_submit():
        flash(_("Choose one of the roles offered."), "error")
        return redirect(_team_url(target))
    try:
        service.change_role(target, user, Role(form.role.data))
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
    else:
        flash(_("%(name)s's role is changed.", name=user.name), "success")
    return redirect(_team_url(target))


@manage_bp.route("/webinars/<int:event_id>/team/<int:user_id>/remove", methods=["POST"])
@manage_bp.route("/series/<int:series_id>/team/<int:user_id>/remove", methods=["POST"])
def remove_member(
    user_id: int, event_id: int | None = None, series_id: int | None = None
) -> ResponseReturnValue:
    target = _target(event_id, series_id)
    user = service.member_account(user_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.remove(target, user)
    except RuleError as error:
        for message in error.messages:
            flash(message, "error")
    else:
        flash(_("%(name)s is no longer on the team.", name=user.name), "success")
    return redirect(_team_url(target))


def _invitation_target(invitation_id: int) -> tuple[Invitation, Target]:
    invitation = get_by_id(Invitation, invitation_id)
    target: Target | None = None
    if invitation is not None:
        target = invitation.event or invitation.series
    if invitation is None or target is None or not may(current_user, Capability.ADMINISTER, target):
        abort(404)
    return invitation, target


@manage_bp.route("/team/invitations/<int:invitation_id>/resend", methods=["POST"])
def resend_invitation(invitation_id: int) -> ResponseReturnValue:
    invitation, target = _invitation_target(invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.resend(target, invitation)
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
    return redirect(_team_url(target))


@manage_bp.route("/team/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    invitation, target = _invitation_target(invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    service.revoke(target, invitation)
    flash(_("Invitation to %(email)s revoked: its link no longer works.", email=invitation.email), "success")
    return redirect(_team_url(target))


@manage_bp.route("/webinars/<int:event_id>/audit")
@manage_bp.route("/series/<int:series_id>/audit")
def audit_log(event_id: int | None = None, series_id: int | None = None) -> ResponseReturnValue:
    target = _target(event_id, series_id)
    page = db.paginate(service.audit_log(target), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("team/audit.html", target=target, is_event=isinstance(target, Event), page=page)


# --- the invitation link -------------------------------------------------------------------------------


def _where_to(invitation: Invitation) -> str:
    if invitation.event_id is not None:
        return url_for("manage.event", event_id=invitation.event_id)
    return url_for("manage.dashboard")


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    """An invitation link: opens an account for a new address, or asks the account's owner to sign
    in (as that account) and accept."""
    invitation = accounts.invitation_for_token(token)
    if invitation is None:
        return render_template("team/invitation_gone.html"), 410
    account = accounts.account_for(invitation.email)
    if account is None:
        form = JoinForm()
        if form.validate_on_submit():
            try:
                user = service.accept_with_new_account(invitation, form.name.data, form.password.data)
            except RuleError as error:
                apply_rule_error(form, error, fallback="name")
            else:
                start_session(user)
                flash(_("Welcome! Your account is ready."), "success")
                return redirect(_where_to(invitation))
        return render_template("team/join.html", invitation=invitation, form=form)
    if invitation.event_id is None and invitation.series_id is None:
        # An organizer invitation to an address that opened an account meanwhile: nothing left to do.
        return render_template("team/invitation_gone.html"), 410
    if not current_user.is_authenticated:
        flash(_("Sign in as %(email)s to accept the invitation.", email=invitation.email), "info")
        return redirect(url_for("auth.login", next=request.path))
    form = ActionForm()
    if current_user.id != account.id:
        return render_template("team/accept.html", invitation=invitation, form=form, other_account=True)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            service.accept(invitation, current_user)
        except RuleError as error:
            for message in error.messages:
                flash(message, "error")
            return redirect(request.path)
        flash(_("You joined the team."), "success")
        return redirect(_where_to(invitation))
    return render_template("team/accept.html", invitation=invitation, form=form, other_account=False)


@bp.route("/invitations/<token>/switch", methods=["POST"])
def switch_account(token: str) -> ResponseReturnValue:
    """Signed in as someone else: sign out here, then sign in as the invited account."""
    if not ActionForm().validate_on_submit():
        abort(400)
    logout_user()
    return redirect(url_for("team.accept", token=token))


@bp.after_request
def _invitation_links_stay_private(response: Response) -> Response:
    if request.endpoint in ("team.accept", "team.switch_account"):
        # The URL is the credential: keep it out of Referer headers and shared caches.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "private, no-store"
    return response
