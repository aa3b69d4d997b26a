"""Organizer accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..database import writing
from ..extensions import db
from ..models import User
from ..rules import RuleError
from ..text import normalise_email, single_line

# Checked against when the address is unknown, so a login takes as long either way.
_DUMMY = User(password_hash="scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128)


class AccountExists(RuleError):
    """The address already has an account (a RuleError on ``email``; ``address`` is the address)."""

    def __init__(self, address: str) -> None:
        super().__init__({"email": [str(_l("An account with this email already exists."))]})
        self.address = address

    def __str__(self) -> str:
        return self.address


def needs_setup() -> bool:
    """True while no account exists: the site then offers to create the first administrator."""
    return db.session.execute(select(User.id).limit(1)).first() is None


def create_user(email: str, name: str, password: str, *, is_admin: bool = False) -> User:
    address = normalise_email(email)
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


def authenticate(email: str, password: str) -> User | None:
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    user = db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if user is None:
        _DUMMY.check_password(password)
        return None
    return user if user.check_password(password) else None
