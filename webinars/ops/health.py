"""Liveness and readiness: what a load balancer or an orchestrator asks before sending traffic."""

from __future__ import annotations

from dataclasses import dataclass, field

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..paths import resource_dir


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" or what is wrong
    ok: bool = True

    def fail(self, name: str, reason: str) -> None:
        self.checks[name] = reason
        self.ok = False

    def passed(self, name: str) -> None:
        self.checks[name] = "ok"


def migration_heads() -> set[str]:
    config = current_app.extensions["migrate"].migrate.get_config(resource_dir("migrations"))
    return set(ScriptDirectory.from_config(config).get_heads())


def applied_revisions() -> set[str]:
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def mail_relay_health() -> tuple[bool, str] | None:
    """The mail relay's state as the worker last saw it: (healthy, detail), or None while unknown.

    The one place the worker's delivery back-off is read from: /readyz fails while it is unhealthy and
    the metrics show ``webinars_mail_relay_healthy``. Until the worker records that state, nothing is
    known and neither reports it.
    """
    from ..mail.health import delivery_health

    state = delivery_health()
    if not state.known:
        return None
    if state.ok:
        return True, "accepting mail"
    since = state.down_since.isoformat() if state.down_since else "?"
    retry = state.paused_until.isoformat() if state.paused_until else "now"
    tries = state.consecutive_failures
    return False, f"unavailable since {since} ({tries} tries), next try {retry}: {state.last_error}"


def readiness() -> Readiness:
    result = Readiness()
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        result.fail("database", f"unreachable: {type(error).__name__}")
        return result
    result.passed("database")

    try:
        heads, applied = migration_heads(), applied_revisions()
    except SQLAlchemyError as error:
        db.session.rollback()
        result.fail("migrations", f"cannot read: {type(error).__name__}")
    else:
        if applied == heads:
            result.passed("migrations")
        else:
            result.fail("migrations", f"database at {sorted(applied) or 'none'}, code at {sorted(heads)}")

    from .metrics import outbox_snapshot

    try:
        _counts, age = outbox_snapshot()
    except SQLAlchemyError as error:
        db.session.rollback()
        result.fail("outbox", f"cannot read: {type(error).__name__}")
    else:
        limit = current_app.config["READY_MAX_OUTBOX_AGE"]
        if age is not None and age > limit:
            result.fail("outbox", f"oldest due message waited {int(age)} s (limit {limit} s)")
        else:
            result.passed("outbox")

    relay = mail_relay_health()
    if relay is not None:
        healthy, detail = relay
        if healthy:
            result.passed("mail_relay")
        else:
            result.fail("mail_relay", detail)
    db.session.rollback()
    return result
