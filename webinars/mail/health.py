"""The mail relay's health, shared by every worker process through one row of ``mail_relay_status``.

When a worker cannot reach the relay (or the relay refuses the session) it records an outage and
every worker pauses delivery as a whole, for longer after each outage in a row (MAIL_RELAY_PAUSES).
The messages keep their attempts: an outage is not their fault. The first session that opens again
marks the relay up, and delivery resumes by itself.

``delivery_health()`` is the one read for health checks and metrics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import MailRelayStatus, OutboxMessage, OutboxStatus, RelayState

log = logging.getLogger(__name__)

ROW_ID = 1


@dataclass(frozen=True)
class DeliveryHealth:
    """What the workers last saw of the relay, and how much mail waits."""

    relay: RelayState
    consecutive_failures: int
    down_since: datetime | None
    paused_until: datetime | None
    last_error: str | None
    last_success_at: datetime | None
    queued: int
    failed: int
    # False until a worker has recorded anything (no outage seen yet): nothing to report.
    known: bool = True

    @property
    def ok(self) -> bool:
        return self.relay == RelayState.UP


def _row() -> MailRelayStatus | None:
    return db.session.get(MailRelayStatus, ROW_ID, populate_existing=True)


def delivery_health() -> DeliveryHealth:
    """The relay's state and the size of the queue, read from the database (no SMTP)."""
    row = _row()
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.FAILED]))
            .group_by(OutboxMessage.status)
        ).all()
    )
    return DeliveryHealth(
        relay=RelayState(row.state) if row else RelayState.UP,
        consecutive_failures=row.consecutive_failures if row else 0,
        down_since=row.down_since if row else None,
        paused_until=row.paused_until if row else None,
        last_error=row.last_error if row else None,
        last_success_at=row.last_success_at if row else None,
        queued=counts.get(OutboxStatus.QUEUED, 0),
        failed=counts.get(OutboxStatus.FAILED, 0),
        known=row is not None,
    )


def paused_until(now: datetime) -> datetime | None:
    """When delivery may try the relay again, or None when it may now."""
    row = _row()
    if row is None or row.state == RelayState.UP or row.paused_until is None or row.paused_until <= now:
        return None
    return row.paused_until


def relay_is_down() -> bool:
    row = _row()
    return row is not None and row.state == RelayState.DOWN


def pause_after(failures: int) -> timedelta:
    pauses = current_app.config["MAIL_RELAY_PAUSES"] or (60,)
    # At least a second: a zero pause would have a worker spin on a relay that is down.
    return timedelta(seconds=max(1, pauses[min(failures, len(pauses)) - 1]))


def record_outage(reason: str) -> timedelta:
    """Note that the relay could not take mail; returns how long delivery pauses. Commits."""
    now = clock.now()
    with writing():
        row = _row()
        if row is None:
            row = MailRelayStatus(id=ROW_ID, state=RelayState.UP, consecutive_failures=0)
            try:
                with db.session.begin_nested():
                    db.session.add(row)
            except IntegrityError:  # another worker created it a moment ago
                row = _row()
                assert row is not None
        failures = row.consecutive_failures + 1
        pause = pause_after(failures)
        row.state = RelayState.DOWN
        row.consecutive_failures = failures
        row.down_since = row.down_since or now
        row.paused_until = now + pause
        row.last_error = reason[:1000]
        row.updated_at = now
        db.session.commit()
    log.warning(
        "mail relay unavailable (%s in a row, down since %s): %s; pausing delivery for %s s",
        failures,
        row.down_since.isoformat() if row.down_since else now.isoformat(),
        reason,
        int(pause.total_seconds()),
    )
    return pause


def record_recovery() -> None:
    """The relay took a session again: delivery runs at full pace. Commits."""
    now = clock.now()
    with writing():
        down_since = db.session.scalar(select(MailRelayStatus.down_since).where(MailRelayStatus.id == ROW_ID))
        changed = db.session.execute(
            update(MailRelayStatus)
            .where(MailRelayStatus.id == ROW_ID, MailRelayStatus.state == RelayState.DOWN)
            .values(
                state=RelayState.UP,
                consecutive_failures=0,
                down_since=None,
                paused_until=None,
                last_success_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    if changed:
        log.warning(
            "mail relay available again (down since %s)", down_since.isoformat() if down_since else "?"
        )
