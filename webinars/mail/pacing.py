"""MAIL_MAX_PER_SECOND: the delivery rate of every worker together, counted in one shared row.

Providers cap a sender, whatever number of processes send for it, so the count cannot live in a
worker: each worker takes permission for a few messages at a time from ``mail_send_window`` (the
current second and how many were sent in it), under the row's lock, and waits for the next second
when the current one is spent. One worker alone therefore never exceeds the cap either.

Seconds are fixed windows: at most MAIL_MAX_PER_SECOND messages *start* in any whole second. A
permission is only good in the second it was given for; what a worker took and did not use is
spent, which can only keep the rate below the cap. Transactional mail shares the cap (the provider
counts it too) but is first in the queue, and a paced worker claims no more than one second's
allowance per batch, so a confirmation never waits behind more than about a second of bulk mail.
"""

from __future__ import annotations

import math

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import MailSendWindow

ROW_ID = 1


def max_per_second() -> int | None:
    """The configured cap, or None when delivery is not paced."""
    cap = current_app.config.get("MAIL_MAX_PER_SECOND")
    return int(cap) if cap and int(cap) > 0 else None


def batch_size(configured: int) -> int:
    """How many messages a worker claims at once: never more than one second's allowance, so mail
    that arrives meanwhile (a confirmation) is not stuck behind a long paced batch."""
    cap = max_per_second()
    return min(configured, cap) if cap else configured


def _take(wanted: int, cap: int, second: int) -> tuple[int, int]:
    """Take permission for up to ``wanted`` messages in ``second``. Returns (granted, the second
    the count is at). Commits."""
    with writing():
        row = db.session.execute(
            select(MailSendWindow.second, MailSendWindow.sent)
            .where(MailSendWindow.id == ROW_ID)
            .with_for_update()
        ).first()
        if row is None:
            db.session.rollback()
            _create_row()
            return _take(wanted, cap, second)
        current, sent = row
        if second > current:
            current, sent = second, 0
        granted = max(0, min(wanted, cap - sent))
        if granted or current != row.second:
            db.session.execute(
                update(MailSendWindow)
                .where(MailSendWindow.id == ROW_ID)
                .values(second=current, sent=sent + granted)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return granted, current


def _create_row() -> None:
    with writing():
        try:
            with db.session.begin_nested():
                db.session.add(MailSendWindow(id=ROW_ID, second=0, sent=0))
            db.session.commit()
        except IntegrityError:  # another worker made it first
            db.session.rollback()


class Pace:
    """One batch's permissions to send. ``wait_for_turn`` before each message."""

    def __init__(self) -> None:
        self.cap = max_per_second()
        self.allowance = 0
        self.second = -1
        self.waited = 0.0

    def wait_for_turn(self, remaining: int) -> None:
        """Return when one more message may start; ``remaining``: how many this batch still has
        to send (it asks for that many at once, so the shared row is touched once per second at
        most, not once per message)."""
        if self.cap is None:
            return
        while True:
            now = clock.now().timestamp()
            second = math.floor(now)
            if self.allowance and second == self.second:
                self.allowance -= 1
                return
            granted, at = _take(max(remaining, 1), self.cap, second)
            if granted:
                self.allowance, self.second = granted - 1, at
                return
            # The second is spent (or another worker's clock is ahead): wait for the next one. The
            # wait is capped, so a far-off clock slows this worker without stopping it.
            pause = min(max(at + 1 - now, 0.001), 1.0)
            self.waited += pause
            clock.sleep(pause)
