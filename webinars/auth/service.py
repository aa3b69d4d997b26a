"""Organizer accounts: creation, sign-in, sessions, passwords, and the first administrator."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, select, update

from .. import audit, clock, site
from ..database import get_by_id, writing
from ..extensions import db
from ..mail.outbox import Content, Envelope, enqueue
from ..models import AuditAction, Event, Invitation, MailKind, TeamMember, User, series_owner
from ..permissions import ROLE_LABELS
from ..rules import RuleError
from ..text import has_control_characters, new_token, normalise_email, single_line
from ..urls import external_url

# Checked against when the address is unknown, so a login takes as long either way.
_DUMMY = User(password_hash="scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128)

_RESET_SALT = "password-reset"
_SETUP_SALT = "first-administrator"
_INVITATION_SALT = "invitation"


class AccountExists(RuleError):
    """The address already has an account (a RuleError on ``email``; ``address`` is the address)."""

    def __init__(self, address: str) -> None:
        super().__init__({"email": [str(_l("An account with this email already exists."))]})
        self.address = address

    def __str__(self) -> str:
        return self.address


def needs_setup() -> bool:
    """True while no account exists: the first administrator is still to be created."""
    return db.session.execute(select(User.id).limit(1)).first() is None


def create_user(email: str, name: str, password: str, *, is_admin: bool = False) -> User:
    address = normalise_email(email)
    if has_control_characters(name):
        raise ValueError("the name holds a line break or a control character")
    with writing():
        if db.session.execute(select(User.id).where(User.email == address)).first():
            raise AccountExists(address)
        user = User(email=address, name=single_line(name), is_admin=is_admin)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
    return user


def create_first_admin(email: str, name: str, password: str) -> User | None:
    """The first administrator, or None when an account appeared meanwhile (set-up is over). Commits.

    The check and the insert share one write transaction, so of two people finishing set-up at the
    same moment on SQLite only one becomes the administrator.
    """
    with writing():
        if not needs_setup():
            return None
        return create_user(email, name, password, is_admin=True)


def organizers() -> list[User]:
    """Every account, by name."""
    return list(db.session.scalars(select(User).order_by(User.name)))


def organizer(user_id: int) -> User | None:
    """The account with this id (from a URL), or None."""
    return get_by_id(User, user_id)


def authenticate(email: str, password: str) -> User | None:
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    user = db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None or not user.active:
        _DUMMY.check_password(password)
        return None
    return user if user.check_password(password) else None


def end_sessions(user: User) -> None:
    """Sign the account out everywhere: its sessions and remember-me cookies name the old version. Commits."""
    with writing():
        user.end_sessions()
        db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password and end every other session of the account. Commits."""
    if not user.check_password(current):
        raise RuleError.on("current", _("This is not your current password."))
    with writing():
        user.set_password(new)
        user.end_sessions()
        db.session.commit()


def set_active(admin: User, user: User, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions. Commits."""
    if user.id == admin.id and not active:
        raise RuleError.on("account", _("You cannot disable your own account."))
    with writing():
        user.active = active
        if not active:
            user.end_sessions()
        db.session.commit()


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def password_reset_token(user: User) -> str:
    # The session version makes the link single-use: using it (or any sign-out) raises the version.
    return _serializer(_RESET_SALT).dumps([user.id, user.session_version])


def user_for_reset_token(token: str) -> User | None:
    try:
        user_id, version = _serializer(_RESET_SALT).loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not 0 < user_id < 2**31:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address; silently nothing otherwise. Commits.

    The answer is the same either way, so the form tells nobody which addresses have accounts.
    """
    try:
        address = normalise_email(email)
    except ValueError:
        return
    user = db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None or not user.active:
        return
    context = {
        "user": user,
        "reset_url": external_url("auth.reset_password", token=password_reset_token(user)),
        "minutes": current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
        "site_name": site.site_name(),
    }
    with writing():
        enqueue(
            Envelope(
                kind=MailKind.PASSWORD_RESET,
                recipient=user.email,
                recipient_name=user.name,
                subject=_("Reset your password for %(site)s", site=context["site_name"]),
            ),
            Content(
                body_text=render_template("emails/password_reset.txt", **context),
                body_html=render_template("emails/password_reset.html", **context),
            ),
        )
        db.session.commit()


def reset_password(user: User, new: str) -> None:
    """Set the new password; the link and every session of the account end with it. Commits."""
    with writing():
        user.set_password(new)
        user.end_sessions()
        db.session.commit()


def setup_token() -> str:
    return _serializer(_SETUP_SALT).dumps("setup")


def setup_token_valid(token: str) -> bool:
    """A link the CLI printed, not expired; it is one-time because set-up closes once an account exists."""
    try:
        _serializer(_SETUP_SALT).loads(token, max_age=current_app.config["SETUP_LINK_MAX_AGE"])
    except BadSignature:
        return False
    return True


# --- invitations (to an organizer account, or to a webinar's or series' team) ---------------------------


def address_or_error(email: str, field: str = "email") -> str:
    """The normalised address, or a RuleError on ``field``."""
    try:
        return normalise_email(email)
    except ValueError:
        raise RuleError.on(field, str(_l("Enter a valid email address."))) from None


def account_for(address: str) -> User | None:
    return db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()


def invitation_token(invitation: Invitation) -> str:
    # The nonce makes a resent link replace the old one; accepting or revoking ends both.
    return _serializer(_INVITATION_SALT).dumps([invitation.id, invitation.nonce])


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation a link names, if the link is not expired, replaced, used or revoked."""
    try:
        invitation_id, nonce = _serializer(_INVITATION_SALT).loads(
            token, max_age=current_app.config["INVITATION_MAX_AGE"]
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(invitation_id, int) or not 0 < invitation_id < 2**31:
        return None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not invitation.is_open or invitation.nonce != nonce:
        return None
    return invitation


def send_invitation(invitation: Invitation) -> None:
    """Queue the invitation email with a fresh link (an earlier link stops working). The caller commits."""
    invitation.nonce = new_token()
    invitation.sent_at = clock.now()
    db.session.flush()
    inviter = invitation.invited_by
    target = invitation.event or invitation.series
    context = {
        "invitation": invitation,
        "inviter": inviter.name if inviter is not None else current_app.config["SITE_NAME"],
        "target_title": (invitation.event.full_title if invitation.event else target.title if target else ""),
        "role": str(ROLE_LABELS[invitation.role]) if invitation.role else "",
        "accept_url": external_url("team.accept", token=invitation_token(invitation)),
        "days": max(1, current_app.config["INVITATION_MAX_AGE"] // 86400),
        "site_name": current_app.config["SITE_NAME"],
    }
    if target is None:
        kind = MailKind.ACCOUNT_INVITATION
        subject = _(
            "%(name)s invites you to organize webinars on %(site)s",
            name=context["inviter"],
            site=context["site_name"],
        )
    else:
        kind = MailKind.TEAM_INVITATION
        subject = _(
            "%(name)s invites you to the team of %(title)s",
            name=context["inviter"],
            title=context["target_title"],
        )
    enqueue(
        Envelope(
            kind=kind,
            recipient=invitation.email,
            subject=single_line(subject)[:300],
            event_id=invitation.event_id,
        ),
        Content(
            body_text=render_template(f"emails/{kind.value}.txt", **context),
            body_html=render_template(f"emails/{kind.value}.html", **context),
        ),
    )


def invite_organizer(inviter: User | None, email: str, *, make_admin: bool = False) -> Invitation:
    """Email a link to open an organizer account (name and password chosen by its owner). An open
    invitation to the same address is sent again instead of doubled. Commits."""
    address = address_or_error(email)
    with writing():
        if account_for(address) is not None:
            raise AccountExists(address)
        invitation = db.session.execute(
            select(Invitation).where(
                Invitation.email == address,
                Invitation.event_id.is_(None),
                Invitation.series_id.is_(None),
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
        ).scalar_one_or_none()
        if invitation is None:
            invitation = Invitation(email=address, nonce=new_token())
            db.session.add(invitation)
        invitation.invited_by_id = inviter.id if inviter is not None else None
        invitation.make_admin = make_admin
        send_invitation(invitation)
        db.session.commit()
    return invitation


def open_account_invitations() -> list[Invitation]:
    """Organizer invitations not yet accepted or revoked, newest first."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.event_id.is_(None),
                Invitation.series_id.is_(None),
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        )
    )


def account_invitation(invitation_id: int) -> Invitation | None:
    invitation = get_by_id(Invitation, invitation_id)
    if invitation is None or invitation.event_id is not None or invitation.series_id is not None:
        return None
    return invitation


def resend_invitation(invitation: Invitation) -> None:
    """Send an open invitation again, with a new link (the previous one stops working). Commits."""
    with writing():
        if not invitation.is_open:
            raise RuleError.on("invitation", str(_l("This invitation was already accepted or revoked.")))
        send_invitation(invitation)
        db.session.commit()


def revoke_invitation(invitation: Invitation) -> None:
    """The link stops working. Commits."""
    with writing():
        if invitation.is_open:
            invitation.revoked_at = clock.now()
        db.session.commit()


def create_invited_account(invitation: Invitation, name: str, password: str) -> User:
    """The account an invitation asked for, with the name and password its owner chose; the invitation
    is spent. Does not commit: the caller also grants the invitation's role, in the same transaction."""
    if has_control_characters(name) or not single_line(name):
        raise RuleError.on("name", str(_l("Enter your name.")))
    if account_for(invitation.email) is not None:
        raise AccountExists(invitation.email)
    user = User(
        email=invitation.email,
        name=single_line(name)[:120],
        is_admin=invitation.make_admin and invitation.event_id is None and invitation.series_id is None,
    )
    user.set_password(password)
    db.session.add(user)
    invitation.accepted_at = clock.now()
    db.session.flush()
    return user


def accept_account_invitation(invitation: Invitation, name: str, password: str) -> User:
    """Open the organizer account an administrator invited to. Commits."""
    with writing():
        user = create_invited_account(invitation, name, password)
        db.session.commit()
    return user


# --- organizer accounts, as administrators manage them -------------------------------------------------


def update_organizer(admin: User, user: User, *, name: str, email: str, is_admin: bool) -> None:
    """Change an account's name, address and administrator flag. Commits."""
    address = address_or_error(email)
    errors: dict[str, str] = {}
    if has_control_characters(name) or not single_line(name):
        errors["name"] = str(_l("Enter a name."))
    clash = account_for(address)
    if clash is not None and clash.id != user.id:
        errors["email"] = str(_l("An account with this email already exists."))
    if user.id == admin.id and not is_admin:
        errors["is_admin"] = str(_l("You cannot take away your own administrator rights."))
    if errors:
        raise RuleError(errors)
    with writing():
        user.name = single_line(name)[:120]
        user.email = address
        if user.is_admin and not is_admin:
            user.end_sessions()  # pages opened with the old rights stop working at once
        user.is_admin = is_admin
        db.session.commit()


def remove_organizer(admin: User, user: User, heir: User | None) -> int:
    """Delete an account; its webinars and its place among series owners go to ``heir``. Returns how
    many webinars moved. Its team roles, API tokens and sessions end with it. Commits."""
    if user.id == admin.id:
        raise RuleError.on("heir", str(_l("You cannot remove your own account.")))
    if heir is None or heir.id == user.id or not heir.active:
        raise RuleError.on("heir", str(_l("Choose another active organizer to take over.")))
    with writing():
        events = list(db.session.scalars(select(Event).where(Event.owner_id == user.id)))
        for event in events:
            event.owner_id = heir.id
            audit.record(
                event,
                AuditAction.OWNER_CHANGED,
                f"{user.name} <{user.email}> → {heir.name} <{heir.email}>",
                actor=admin,
            )
        owned = set(
            db.session.scalars(select(series_owner.c.series_id).where(series_owner.c.user_id == user.id))
        )
        already = set(
            db.session.scalars(select(series_owner.c.series_id).where(series_owner.c.user_id == heir.id))
        )
        for series_id in sorted(owned - already):
            db.session.execute(insert(series_owner).values(series_id=series_id, user_id=heir.id))
        db.session.execute(delete(series_owner).where(series_owner.c.user_id == user.id))
        db.session.execute(delete(TeamMember).where(TeamMember.user_id == user.id))
        db.session.execute(
            update(Invitation).where(Invitation.invited_by_id == user.id).values(invited_by_id=None)
        )
        db.session.flush()
        db.session.expire_all()
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()
    return len(events)
