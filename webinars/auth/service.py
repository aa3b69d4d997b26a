"""Organizer accounts: creation, sign-in, sessions, passwords, and the first administrator."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from .. import site
from ..database import get_by_id, writing
from ..extensions import db
from ..mail.outbox import Content, Envelope, enqueue
from ..models import MailKind, User
from ..rules import RuleError
from ..text import has_control_characters, normalise_email, single_line
from ..urls import external_url

# Checked against when the address is unknown, so a login takes as long either way.
_DUMMY = User(password_hash="scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128)

_RESET_SALT = "password-reset"
_SETUP_SALT = "first-administrator"


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
