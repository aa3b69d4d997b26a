"""Deliver the outbox: claim due messages, send them, record the outcome, retry with back-off.

Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers on several machines never
take the same message; on SQLite the claim runs under the database's single write lock. A claimed
message carries a lease (locked_until): if its worker dies, another takes it once the lease ends.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import Broadcast, Event, OutboxMessage, OutboxStatus, Registration
from ..ops.metrics import DELIVERIES
from . import notifications
from .compose import build_mime
from .transport import FolderTransport, PermanentFailure, SMTPTransport, Transport

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # the default; WORKER_LEASE_SECONDS sets it


def make_transport() -> Transport:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SMTPTransport(
            config["MAIL_SERVER"],
            config["MAIL_PORT"],
            use_tls=config["MAIL_USE_TLS"],
            use_ssl=config["MAIL_USE_SSL"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            timeout=config["MAIL_TIMEOUT"],
        )
    return FolderTransport(os.path.join(current_app.instance_path, config["MAIL_FOLDER"]))


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("WORKER_LEASE_SECONDS", LEASE.total_seconds()))


def claim(limit: int) -> list[int]:
    """Take up to ``limit`` due messages for this worker and commit the claim."""
    now = clock.now()
    with writing():
        db.session.rollback()
        due = or_(
            and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_until < now),
        )
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(due)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status=OutboxStatus.SENDING, locked_until=now + _lease())
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return ids


def _record(message_id: int, **values: object) -> None:
    with writing():
        if db.session.get_bind().dialect.name == "postgresql":
            # An outcome lost in a database crash only means one more delivery (the lease runs out
            # and the message is sent again), so it need not wait for the disk flush.
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def _retry_or_fail(message: OutboxMessage, error: str, *, permanent: bool = False, **content: object) -> None:
    delays = current_app.config["MAIL_RETRY_DELAYS"]
    attempts = message.attempts + 1
    if permanent or attempts > len(delays):
        _record(message.id, status=OutboxStatus.FAILED, attempts=attempts, last_error=error, **content)
        DELIVERIES.labels(outcome="failed").inc()
        log.warning("message %s to %s failed for good: %s", message.id, message.recipient, error)
        return
    _record(
        message.id,
        status=OutboxStatus.QUEUED,
        attempts=attempts,
        last_error=error,
        next_attempt_at=clock.now() + timedelta(seconds=delays[attempts - 1]),
        **content,
    )
    DELIVERIES.labels(outcome="deferred").inc()
    log.info("message %s to %s deferred (attempt %s): %s", message.id, message.recipient, attempts, error)


class _Batch:
    """A claimed batch, loaded in a few queries and detached, so sending needs no database."""

    def __init__(self, ids: list[int]) -> None:
        self.rendered: dict[int, dict[str, object]] = {}  # kept with the outcome: a retry sends the same
        # A session of its own, closed at once: the objects stay loaded, detached from db.session.
        with Session(db.engine, expire_on_commit=False) as session:
            self.messages = list(
                session.scalars(
                    select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
                )
            )
            unrendered = [m for m in self.messages if m.body_text is None]
            wanted = {m.registration_id for m in unrendered if m.registration_id}
            self.registrations = {
                r.id: r
                for r in session.scalars(
                    select(Registration)
                    .where(Registration.id.in_(wanted))
                    .options(
                        joinedload(Registration.event).joinedload(Event.owner),
                        # Emails name the series and number and the speakers.
                        joinedload(Registration.event).joinedload(Event.series),
                        joinedload(Registration.event).selectinload(Event.speakers),
                    )
                )
            }
            broadcast_ids = {m.broadcast_id for m in unrendered if m.broadcast_id}
            self.broadcasts = {
                b.id: b for b in session.scalars(select(Broadcast).where(Broadcast.id.in_(broadcast_ids)))
            }

    def content(self, message: OutboxMessage) -> dict[str, object]:
        """Render a message written without its bodies; {} when it already has them."""
        if message.body_text is not None:
            return {}
        registration = self.registrations.get(message.registration_id or 0)
        if registration is None:
            raise PermanentFailure("the registration this message was for no longer exists")
        content = notifications.render_content(
            registration,
            message.kind,
            subject=message.subject,
            broadcast=self.broadcasts.get(message.broadcast_id or 0),
        )
        for name, value in content.items():
            setattr(message, name, value)
        self.rendered[message.id] = content
        return content


# Claims this process could not settle because the database went away; given back when it returns,
# so they need not wait for their lease to end.
_unsettled: set[int] = set()


def _give_back_unsettled() -> None:
    if not _unsettled:
        return
    ids = sorted(_unsettled)
    with writing():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.QUEUED, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    _unsettled.difference_update(ids)
    log.info("gave back %s message(s) claimed before a database outage", len(ids))


def deliver_batch(transport_factory: Callable[[], Transport] = make_transport) -> int:
    """Claim one batch and try to deliver it. Returns how many messages were claimed."""
    _give_back_unsettled()
    ids = claim(current_app.config["WORKER_BATCH_SIZE"])
    if not ids:
        return 0
    try:
        return _deliver(ids, transport_factory)
    except SQLAlchemyError:
        _unsettled.update(ids)  # whatever was recorded is no longer "sending" and stays as it is
        with suppress(SQLAlchemyError):
            db.session.rollback()
        raise


def _deliver(ids: list[int], transport_factory: Callable[[], Transport]) -> int:
    batch = _Batch(ids)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    pending = list(batch.messages)
    try:
        with transport_factory() as transport:
            while pending:
                message = pending[0]
                content: dict[str, object] = {}
                try:
                    content = batch.content(message)
                    transport.send(build_mime(message, sender=sender))
                except PermanentFailure as error:
                    _retry_or_fail(message, str(error), permanent=True, **content)
                else:
                    _record(
                        message.id,
                        status=OutboxStatus.SENT,
                        attempts=message.attempts + 1,
                        sent_at=clock.now(),
                        last_error=None,
                        **content,
                    )
                    DELIVERIES.labels(outcome="sent").inc()
                pending.pop(0)
    except Exception as error:  # connection lost or refused: every message not yet sent waits
        reason = f"{type(error).__name__}: {error}"
        for message in pending:
            _retry_or_fail(message, reason, **batch.rendered.get(message.id, {}))
    return len(ids)


# The retention purge looks for work at most this often per worker process.
PURGE_INTERVAL_SECONDS = 3600
_last_purge: float | None = None


def produce_due() -> int:
    """Write the mail that time has made due: reminders, and the next chunk of organizer messages.
    Also runs the retention purge of personal data, once an hour."""
    from ..messages.service import expand_pending
    from .reminders import enqueue_due

    _purge_when_due()
    return enqueue_due() + expand_pending()


def _purge_when_due() -> None:
    global _last_purge
    from ..privacy.service import purge_expired

    now = time.monotonic()
    if _last_purge is not None and now - _last_purge < PURGE_INTERVAL_SECONDS:
        return
    _last_purge = now
    purged = purge_expired()
    if purged:
        log.info("retention: replaced the personal data of %s registration(s)", purged)


def deliver_due(transport_factory: Callable[[], Transport] = make_transport) -> int:
    """Produce what is due and deliver until nothing is left. Returns how many messages were handled."""
    handled = 0
    while True:
        produced = produce_due()
        delivered = 0
        while claimed := deliver_batch(transport_factory):
            delivered += claimed
        handled += delivered
        if not produced and not delivered:
            return handled


def run_forever(
    stop: threading.Event | None = None,
    poll_seconds: float | None = None,
    after_pass: Callable[[], None] | None = None,
) -> None:
    """The worker loop: deliver what is due, then wait a little. Stops cleanly on SIGTERM/SIGINT."""
    stop = stop or threading.Event()
    poll = poll_seconds if poll_seconds is not None else current_app.config["WORKER_POLL_SECONDS"]
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        try:
            handled = deliver_due()
        except Exception:  # a database hiccup must not end the worker; try again after the pause
            log.exception("worker pass failed")
            db.session.rollback()
            handled = 0
        finally:
            db.session.remove()
        if after_pass is not None:
            try:
                after_pass()
            except Exception:  # metrics are a report: failing to write them must not stop the delivery
                log.exception("after-pass hook failed")
        if not handled:
            stop.wait(poll)
    log.info("worker stopped")
