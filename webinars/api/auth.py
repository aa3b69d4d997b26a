"""Token authentication for the organizer part of the API.

Only the ``Authorization: Bearer`` header counts: the session cookie of a signed-in organizer is
never looked at here, so a page elsewhere cannot make a browser act through the API on its behalf,
and the API needs no CSRF token (its routes are exempt from Flask-WTF's check).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask import request as flask_request
from flask_smorest import abort

from ..auth import tokens
from ..models import TokenScope, User

SECURITY_SCHEME = "apiToken"
_CHALLENGE = 'Bearer realm="webinars"'


def _refuse(status: int, detail: str, error: str) -> None:
    abort(
        status,
        message=detail,
        reason=error,
        headers={"WWW-Authenticate": f'{_CHALLENGE}, error="{error}"'},
    )


def authenticate(scope: TokenScope) -> User:
    header = flask_request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        abort(
            401,
            message="Send a personal API token: Authorization: Bearer <token>.",
            reason="missing_token",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    token = tokens.authenticate(secret.strip())
    if token is None:
        _refuse(401, "The token is unknown or revoked.", "invalid_token")
    assert token is not None
    if scope == TokenScope.WRITE and not token.can_write:
        _refuse(403, "This token may only read; create a token with the write scope.", "insufficient_scope")
    g.api_user = token.user
    return token.user


def token_required(scope: TokenScope) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authenticate(scope)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def api_user() -> User:
    return g.api_user
