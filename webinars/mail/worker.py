"""Deliver the outbox: claim due messages, send them, record the outcome, retry with back-off.

Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers on several machines never
take the same message; on SQLite the claim runs under the database's single write lock. A claimed
message carries a lease (locked_until): if its worker dies, another takes it once the lease ends.

Each message is settled on its own: whatever its rendering, building or sending raises decides its
fate alone (sent, deferred, failed, withheld). Only RelayUnavailable stops a batch, and then the
relay, not the messages, takes the blame: see ``health``.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Connection, Update, bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload

from .. import clock
from ..counters import DELIVERIES
from ..database import autocommit_connection, writing
from ..extensions import db
from ..models import (
    Broadcast,
    Event,
    MailLane,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from . import health, notifications, pacing, producers
from .compose import build_mime
from .outbox import Content
from .transport import (
    FolderTransport,
    PermanentFailure,
    RelayUnavailable,
    SMTPTransport,
    TransientFailure,
    Transport,
)

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


def claim(limit: int, *, lane: MailLane | None = None) -> list[int]:
    """Take up to ``limit`` due messages for this worker and commit the claim (only queued ones of
    ``lane`` if given).

    Messages whose worker died (their lease ran out) come first: they were at the front of the
    queue when they were claimed. Then the queue, transactional lane before bulk (MailLane), each
    lane in order of due time. Two queries rather than one with an OR: each matches the claim index
    (status, lane, next_attempt_at, id), so finding 50 messages costs the same with 10,000 queued.
    """
    now = clock.now()
    with writing():
        db.session.rollback()
        ids = []
        if lane is None:
            ids = _lockable(
                [OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_until < now], limit
            )
        queued = [OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now]
        if lane is not None:
            queued.append(OutboxMessage.lane == lane)
        if len(ids) < limit:
            ids += _lockable(queued, limit - len(ids))
        if ids:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status=OutboxStatus.SENDING, locked_until=now + _lease())
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    return ids


# The order of the claim and of sending a claimed batch.
CLAIM_ORDER = (OutboxMessage.lane, OutboxMessage.next_attempt_at, OutboxMessage.id)


def _lockable(conditions: list[ColumnElement[bool]], limit: int) -> list[int]:
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(*conditions)
            .order_by(*CLAIM_ORDER)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


# On PostgreSQL a batch writes its outcomes through one connection of its own, in autocommit (see
# _record). Checking one out of the pool per message cost a ping round trip each time, as much as
# the UPDATE itself.
_outcome_connection: ContextVar[Connection | None] = ContextVar("outcome_connection", default=None)


@contextmanager
def _outcomes_through_one_connection() -> Iterator[None]:
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with autocommit_connection() as connection:
        token = _outcome_connection.set(connection)
        try:
            yield
        finally:
            _outcome_connection.reset(token)


@functools.lru_cache(maxsize=64)
def _record_statement(columns: tuple[str, ...], postgresql: bool) -> Update:
    # One statement per set of columns, built once: building it cost a third of recording an outcome.
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id == bindparam("outbox_id"))
        .values(locked_until=None, **{name: bindparam(f"new_{name}") for name in columns})
        .execution_options(synchronize_session=False)
    )
    if postgresql:
        # Outside an explicit transaction (see _record), without waiting for the disk flush:
        # set_config(..., true) is SET LOCAL.
        statement = statement.where(func.set_config("synchronous_commit", "off", True).is_not(None))
    return statement


def _record(message_id: int, **values: object) -> None:
    postgresql = db.engine.dialect.name == "postgresql"
    statement = _record_statement(tuple(sorted(values)), postgresql)
    parameters = {"outbox_id": message_id, **{f"new_{name}": value for name, value in values.items()}}
    if postgresql:
        # One statement is atomic on its own, so it runs outside an explicit transaction: one round
        # trip per message instead of BEGIN, SET LOCAL, UPDATE and COMMIT, which with one worker cost
        # as much as the SMTP exchange. An outcome lost in a database crash only means one more
        # delivery (the lease runs out and the message is sent again), so the statement's own
        # transaction need not wait for the disk flush.
        held = _outcome_connection.get()
        if held is not None:
            held.execute(statement, parameters)
            return
        with autocommit_connection() as connection:
            connection.execute(statement, parameters)
        return
    with writing():
        db.session.execute(statement, parameters)
        db.session.commit()


def _retry_or_fail(
    message: OutboxMessage, error: str, *, permanent: bool = False, content: Content | None = None
) -> None:
    """Defer the message, or fail it for good; a rendered ``content`` is kept so a retry sends the same."""
    delays = current_app.config["MAIL_RETRY_DELAYS"]
    attempts = message.attempts + 1
    rendered = content.columns() if content else {}
    if permanent or attempts > len(delays):
        _record(message.id, status=OutboxStatus.FAILED, attempts=attempts, last_error=error, **rendered)
        DELIVERIES.labels(outcome="failed").inc()
        log.warning("message %s to %s failed for good: %s", message.id, message.recipient, error)
        return
    _record(
        message.id,
        status=OutboxStatus.QUEUED,
        attempts=attempts,
        last_error=error,
        next_attempt_at=clock.now() + timedelta(seconds=delays[attempts - 1]),
        **rendered,
    )
    DELIVERIES.labels(outcome="deferred").inc()
    log.info("message %s to %s deferred (attempt %s): %s", message.id, message.recipient, attempts, error)


class _Batch:
    """A claimed batch, loaded in a few queries and detached, so sending needs no database."""

    def __init__(self, ids: list[int]) -> None:
        self.rendered: dict[int, Content] = {}  # kept with the outcome: a retry sends the same
        self.rendering = notifications.SharedRendering()
        # A session of its own, closed at once: the objects stay loaded, detached from db.session.
        with Session(db.engine, expire_on_commit=False) as session:
            self.messages = list(
                session.scalars(
                    # The claim's order: a message put behind the others is sent after them.
                    select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(*CLAIM_ORDER)
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

    def withheld_because(self, message: OutboxMessage) -> str | None:
        """Why a message should not go out any more, or None. A reminder is worth sending only
        before the start, for a webinar still on, to someone still registered."""
        if message.kind not in notifications.TIMELY_KINDS:
            return None
        registration = self.registrations.get(message.registration_id or 0)
        if registration is None:
            return None  # settled as a permanent failure by content()
        event = registration.event
        if event.is_cancelled:
            return "withheld: the webinar was cancelled"
        if registration.status != RegistrationStatus.CONFIRMED:
            return "withheld: the registration is no longer confirmed"
        if clock.now() >= event.starts_at:
            return "withheld: the webinar had already started when the message could be sent"
        return None

    def content(self, message: OutboxMessage) -> Content | None:
        """Render a message written without its bodies; None when it already has them."""
        if message.body_text is not None:
            return None
        registration = self.registrations.get(message.registration_id or 0)
        if registration is None:
            raise PermanentFailure("the registration this message was for no longer exists")
        content = self.rendering.content(
            registration,
            message.kind,
            subject=message.subject,
            broadcast=self.broadcasts.get(message.broadcast_id or 0),
        )
        for name, value in content.columns().items():
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


def deliver_batch(
    transport_factory: Callable[[], Transport] = make_transport, *, ignore_pause: bool = False
) -> int:
    """Claim one batch and try to deliver it. Returns how many messages were claimed.

    Nothing is claimed while the relay is known to be down and its pause has not run out, unless
    ``ignore_pause`` (someone asked for delivery now).
    """
    _give_back_unsettled()
    if not ignore_pause and health.paused_until(clock.now()) is not None:
        return 0
    ids = claim(pacing.batch_size(current_app.config["WORKER_BATCH_SIZE"]))
    if not ids:
        return 0
    try:
        return _deliver(ids, transport_factory)
    except SQLAlchemyError:
        _unsettled.update(ids)  # whatever was recorded is no longer "sending" and stays as it is
        with suppress(SQLAlchemyError):
            db.session.rollback()
        raise


# While a worker sends bulk mail, it looks this often for transactional mail that arrived meanwhile.
LOOK_FOR_TRANSACTIONAL = timedelta(seconds=1)


def _deliver(ids: list[int], transport_factory: Callable[[], Transport]) -> int:
    batch = _Batch(ids)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    pending = [(batch, message) for message in batch.messages]
    # The relay counts as back once it has answered a message, not merely accepted a connection: a
    # relay that greets and then refuses every session stays down, and its pauses keep growing.
    relay_was_down = health.relay_is_down()
    pace = pacing.Pace()
    # A batch of bulk mail takes seconds (minutes, under a low MAIL_MAX_PER_SECOND); a confirmation
    # that arrives meanwhile is claimed on the way and sent next, on the same connection.
    bulk = any(message.lane == MailLane.BULK for message in batch.messages)
    look_at = clock.now() + LOOK_FOR_TRANSACTIONAL
    claimed = list(ids)
    try:
        with _outcomes_through_one_connection(), transport_factory() as transport:
            while pending:
                if bulk and clock.now() >= look_at:
                    look_at = clock.now() + LOOK_FOR_TRANSACTIONAL
                    pending[:0] = _transactional_meanwhile(claimed)
                owner, message = pending[0]
                _settle(owner, message, transport, sender, pace, len(pending))
                pending.pop(0)
                if relay_was_down:
                    health.record_recovery()
                    relay_was_down = False
    except RelayUnavailable as error:
        _wait_for_relay(
            [message for _, message in pending], str(error), in_flight=error.in_flight, dropped=error.dropped
        )
    except SQLAlchemyError:
        _unsettled.update(claimed[len(ids) :])  # deliver_batch gives back the batch's own
        raise
    return len(claimed)


def _transactional_meanwhile(claimed: list[int]) -> list[tuple[_Batch, OutboxMessage]]:
    ids = claim(current_app.config["WORKER_BATCH_SIZE"], lane=MailLane.TRANSACTIONAL)
    if not ids:
        return []
    claimed += ids
    urgent = _Batch(ids)
    return [(urgent, message) for message in urgent.messages]


def _settle(
    batch: _Batch,
    message: OutboxMessage,
    transport: Transport,
    sender: str,
    pace: pacing.Pace,
    remaining: int,
) -> None:
    """Deliver one message and record its outcome. Whatever goes wrong with this message settles
    this message alone; only RelayUnavailable (and a database outage) leaves this function."""
    content: Content | None = None
    try:
        reason = batch.withheld_because(message)
        if reason:
            _record(message.id, status=OutboxStatus.WITHHELD, last_error=reason)
            DELIVERIES.labels(outcome="withheld").inc()
            log.info("message %s to %s %s", message.id, message.recipient, reason)
            return
        content = batch.content(message)
        mime = build_mime(message, sender=sender)
        pace.wait_for_turn(remaining)
        transport.send(mime)
    except (RelayUnavailable, SQLAlchemyError):
        raise
    except PermanentFailure as error:
        _retry_or_fail(message, str(error), permanent=True, content=content)
    except TransientFailure as error:
        _retry_or_fail(message, str(error), content=content)
    except Exception as error:  # rendering or building failed: the content itself cannot be sent
        log.exception("message %s could not be built", message.id)
        reason = f"the message could not be built: {type(error).__name__}: {error}"
        _retry_or_fail(message, reason, permanent=True, content=content)
    else:
        _record(
            message.id,
            status=OutboxStatus.SENT,
            attempts=message.attempts + 1,
            sent_at=clock.now(),
            last_error=None,
            **(content.columns() if content else {}),
        )
        DELIVERIES.labels(outcome="sent").inc()


def _wait_for_relay(pending: list[OutboxMessage], reason: str, *, in_flight: bool, dropped: bool) -> None:
    """Give the unsent messages back with their attempts untouched, and pause delivery as a whole.

    A relay that cannot be reached, or that refuses the session (421, a refused sender), has no
    message to blame, so an outage of any length spends no attempt; the message being sent then
    goes behind the others (by the first retry delay), so a pattern that repeats on one message
    cannot hold up the rest. When the connection breaks in the middle of a message, that one is
    charged an attempt: the drop may be its doing, and a message that breaks every session must
    end failed rather than be tried for ever.
    """
    if in_flight and pending:
        head, pending = pending[0], pending[1:]
        if dropped:
            _retry_or_fail(head, f"the connection broke while sending: {reason}")
        else:
            delay = timedelta(seconds=current_app.config["MAIL_RETRY_DELAYS"][0])
            _record(
                head.id,
                status=OutboxStatus.QUEUED,
                last_error=f"waiting for the mail server: {reason}"[:2000],
                next_attempt_at=clock.now() + delay,
            )
    if pending:
        with writing():
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([message.id for message in pending]))
                .values(
                    status=OutboxStatus.QUEUED,
                    locked_until=None,
                    last_error=f"waiting for the mail server: {reason}"[:2000],
                )
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
    health.record_outage(reason)


def deliver_due(
    transport_factory: Callable[[], Transport] = make_transport, *, try_relay_now: bool = False
) -> int:
    """Produce what is due (see producers) and deliver until nothing is left. Returns how many
    messages were handled.

    ``try_relay_now`` tries the relay once even while its pause runs (``worker --once``: an operator
    who asks for delivery after fixing the relay should not wait for the pause). If it is still
    down, the new pause ends this pass.
    """
    handled = 0
    ignore_pause = try_relay_now
    while True:
        produced = producers.produce_due()
        delivered = 0
        while claimed := deliver_batch(transport_factory, ignore_pause=ignore_pause):
            ignore_pause = False
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
