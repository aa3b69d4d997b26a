"""Organizer accounts."""

from __future__ import annotations

from sqlalchemy import select

from ..database import writing
from ..extensions import db
from ..models import User
from ..text import has_control_characters, normalise_email, single_line

# Checked against when the address is unknown, so a login takes as long either way.
_DUMMY = User(password_hash="scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128)


class AccountExists(Exception):
    pass


def needs_setup() -> bool:
    """True while no account exists: the site then offers to create the first administrator."""
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
