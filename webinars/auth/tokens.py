"""Personal API tokens: created and revoked by their owner on the account page, used by the JSON API.

The secret is 256 random bits, so a single SHA-256 digest is enough to keep it: nothing can be guessed
back from it, and an indexed lookup by digest needs no slow password hash on every API call.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import ApiToken, TokenScope, User
from ..text import single_line

TOKEN_PREFIX = "wbn_"
# A token used constantly is written back at most this often: reads stay reads.
LAST_USED_PRECISION = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str, scope: TokenScope) -> tuple[ApiToken, str]:
    """A new token and its secret, which is never stored and cannot be shown again. Commits."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with writing():
        token = ApiToken(
            user_id=user.id,
            name=single_line(name)[:80],
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=digest(secret),
            scope=TokenScope(scope),
        )
        db.session.add(token)
        db.session.commit()
    return token, secret


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke(user: User, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens; False when there is no such live token. Commits."""
    with writing():
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != user.id or token.revoked_at is not None:
            db.session.rollback()
            return False
        token.revoked_at = clock.now()
        db.session.commit()
    return True


def authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret, its last-used time brought up to date; None otherwise."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.execute(
        select(ApiToken)
        .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))
    ).scalar_one_or_none()
    if token is None or not token.user.active:  # a disabled account's tokens stop with its sessions
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        with writing():
            db.session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == token.id,
                    or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_PRECISION),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
    return token
