"""Starting a session, shared by sign-in, set-up, password resets and invitation links."""

from __future__ import annotations

from flask import current_app, g, session
from flask_login import login_user

from ..models import User


def start_session(user: User, *, remember: bool = False) -> None:
    """A fresh session for the account: nothing carried over from before sign-in but the language.

    The CSRF token goes with it, so a token seen before sign-in is worth nothing after.
    """
    language = session.get("lang")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # Flask-WTF's copy of it
    if language:
        session["lang"] = language
    login_user(user, remember=remember)
