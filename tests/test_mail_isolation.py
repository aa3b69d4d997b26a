"""One bad message never holds up another; an outage of any length loses nothing.

Against a real SMTP server on loopback that does not offer SMTPUTF8, as most relays do not.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import make_event
from webinars.extensions import db
from webinars.mail import health, notifications, outbox, worker
from webinars.models import Event, OutboxMessage, OutboxStatus, Registration, RegistrationStatus, RelayState
from webinars.registrations import service
from webinars.text import new_token

BATCH = 10
POISONED_POSITION = 2  # the third message of the batch


def _older_row(event: Event, email: str, name: str = "Older Row") -> Registration:
    """A registration as a row from before today's rules could hold it, written past the service."""
    registration = Registration(
        event_id=event.id,
        email=email,
        name=name,
        status=RegistrationStatus.CONFIRMED,
        token=new_token(),
        locale="en",
        consent=True,
        confirmed_at=event.created_at,
    )
    db.session.add(registration)
    db.session.commit()
    return registration


def _poison(kind: str, monkeypatch: pytest.MonkeyPatch) -> OutboxMessage:
    """Enqueue one message poisoned in the way ``kind`` names; returns its outbox row."""
    if kind == "non_ascii_local_part":
        registration = _older_row(make_event(title="Plain"), "josé@example.net")
    elif kind == "crlf_in_title":
        event = make_event(title="Plain")
        db.session.execute(
            update(Event).where(Event.id == event.id).values(title="Broken\r\nBcc: victim@example.org")
        )
        db.session.commit()
        registration = _older_row(event, "title@example.org")
    elif kind == "crlf_in_subject":
        registration = _older_row(make_event(title="Plain"), "subject@example.org")
        message = notifications.send(registration, "invite_resent")
        message.subject = "Hello\r\nBcc: victim@example.org"
        db.session.commit()
        return message
    elif kind == "crlf_in_join_url":
        event = make_event(title="Plain")
        db.session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(join_url="https://meet.example.org/room\r\nBcc: victim@example.org")
        )
        db.session.commit()
        registration = _older_row(event, "url@example.org")
    elif kind == "year_9999_start":
        event = make_event(title="Plain", timezone="Asia/Tokyo")
        db.session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(starts_at=datetime(9999, 12, 31, 23, 30, tzinfo=UTC))
        )
        db.session.commit()
        registration = _older_row(event, "future@example.org")
    elif kind == "any_exception":
        registration = _older_row(make_event(title="Plain"), "boom@example.org")
        real = notifications.SharedRendering.content

        def exploding(
            self: notifications.SharedRendering, registration_: Registration, *args: object, **kwargs: object
        ) -> object:
            if registration_.id == registration.id:
                raise RuntimeError("something nobody foresaw")
            return real(self, registration_, *args, **kwargs)  # type: ignore[arg-type]

        # The worker renders through SharedRendering (which falls back to render_content).
        monkeypatch.setattr(notifications.SharedRendering, "content", exploding)
    else:
        raise AssertionError(kind)
    message = notifications.send(registration, "registration_confirmed")
    db.session.commit()
    return message


POISONS = [
    "non_ascii_local_part",
    "crlf_in_title",
    "crlf_in_subject",
    "crlf_in_join_url",
    "year_9999_start",
    "any_exception",
]


@pytest.mark.parametrize("poison", POISONS)
def test_a_poisoned_message_settles_alone_and_the_other_nine_arrive_on_the_first_run(
    mail_app, smtp_sink, monkeypatch, poison
):
    assert not smtp_sink.smtputf8
    mail_app.config["WORKER_BATCH_SIZE"] = BATCH
    event = make_event(capacity=50)
    normal: list[str] = []
    poisoned: OutboxMessage | None = None
    for position in range(BATCH):
        if position == POISONED_POSITION:
            poisoned = _poison(poison, monkeypatch)
            continue
        address = f"person{position}@example.org"
        service.register(event, name=f"Person {position}", email=address, consent=True)
        normal.append(address)
    assert poisoned is not None
    assert db.session.query(OutboxMessage).count() == BATCH

    handled = worker.deliver_due()

    assert handled == BATCH
    received = Counter(rcpt for item in smtp_sink.received for rcpt in item.rcpt_tos)
    assert {address: received[address] for address in normal} == dict.fromkeys(normal, 1)
    assert "victim@example.org" not in received
    db.session.expire_all()
    rows = {row.id: row for row in db.session.scalars(select(OutboxMessage))}
    assert all(rows[m].status == OutboxStatus.SENT for m in rows if m != poisoned.id)
    settled = rows[poisoned.id]
    # Settled on this run: sent with the fault neutralised, or failed for good with a readable error.
    assert settled.status in (OutboxStatus.SENT, OutboxStatus.FAILED), settled.last_error
    assert settled.attempts == 1
    if settled.status == OutboxStatus.FAILED:
        assert settled.last_error
    if poison == "non_ascii_local_part":
        assert settled.status == OutboxStatus.FAILED
        assert "SMTPUTF8" in settled.last_error.upper()
    if poison == "any_exception":
        assert settled.status == OutboxStatus.FAILED
        assert "something nobody foresaw" in settled.last_error
    if poison.startswith("crlf"):
        assert settled.status == OutboxStatus.SENT
        for item in smtp_sink.received:
            headers = item.raw.split(b"\r\n\r\n", 1)[0]
            assert b"\r\nBcc:" not in headers
            assert item.parsed()["Bcc"] is None
    assert health.delivery_health().relay == RelayState.UP


def test_an_idn_domain_goes_out_in_idna_form(mail_app, smtp_sink):
    event = make_event(capacity=5)
    service.register(event, name="Ana", email="ana@ñandú.cl", consent=True)
    worker.deliver_due()
    (item,) = smtp_sink.received
    assert item.rcpt_tos == ["ana@xn--and-6ma2c.cl"]
    assert item.parsed()["To"].addresses[0].domain == "xn--and-6ma2c.cl"


def test_a_non_ascii_local_part_goes_out_where_the_relay_offers_smtputf8(app_factory):
    from tests.helpers import free_port
    from tests.mailsink import MailSink

    sink = MailSink(free_port(), smtputf8=True)
    sink.start()
    try:
        app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_TIMEOUT=5)
        with app.app_context():
            registration = _older_row(make_event(capacity=5), "josé@example.net")
            notifications.send(registration, "registration_confirmed")
            db.session.commit()
            worker.deliver_due()
            assert db.session.scalars(select(OutboxMessage.status)).one() == OutboxStatus.SENT
            db.session.remove()
    finally:
        sink.stop()
    assert [item.rcpt_tos for item in sink.received] == [["josé@example.net"]]


def test_a_relay_down_longer_than_every_retry_delay_loses_nothing(mail_app, smtp_sink, frozen_clock, caplog):
    event = make_event(capacity=50, starts_in=timedelta(days=30))
    for i in range(12):
        service.register(event, name=f"Person {i}", email=f"person{i}@example.org", consent=True)
    smtp_sink.stop()
    outage = timedelta(seconds=sum(mail_app.config["MAIL_RETRY_DELAYS"]) * 3)
    end = frozen_clock.current + outage
    pauses: list[datetime] = []
    while frozen_clock.current < end:
        worker.deliver_due()
        state = health.delivery_health()
        assert state.relay == RelayState.DOWN
        if state.paused_until not in pauses:
            pauses.append(state.paused_until)
        frozen_clock.advance(seconds=7)
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {OutboxStatus.QUEUED}
    assert {row.attempts for row in rows} == {0}  # the outage spent nobody's attempts
    gaps = [(later - earlier) for earlier, later in zip(pauses, pauses[1:], strict=False)]
    assert gaps[0] < gaps[-1]  # the pauses grow
    assert "pausing delivery" in caplog.text

    smtp_sink.start()
    frozen_clock.advance(seconds=max(mail_app.config["MAIL_RELAY_PAUSES"]) + 1)
    worker.deliver_due()
    received = Counter(item.rcpt_tos[0] for item in smtp_sink.received)
    assert received == {f"person{i}@example.org": 1 for i in range(12)}
    assert health.delivery_health().relay == RelayState.UP
    assert "available again" in caplog.text


def test_the_relay_state_is_shared_with_other_processes(app_factory, smtp_sink):
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_sink.port, "MAIL_TIMEOUT": 5}
    first, second = app_factory(**settings), app_factory(**settings)
    smtp_sink.stop()
    with first.app_context():
        service.register(make_event(capacity=5), name="Ana", email="ana@example.org", consent=True)
        worker.deliver_due()
        db.session.remove()
    with second.app_context():
        state = health.delivery_health()
        assert state.relay == RelayState.DOWN
        assert state.paused_until is not None
        assert state.queued == 1
        assert state.last_error
        assert worker.deliver_batch() == 0  # the pause holds for every worker
        db.session.remove()


def test_a_reminder_whose_moment_passed_is_withheld_with_a_reason(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    registration = service.register(event, name="Ana", email="ana@example.org", consent=True).registration
    worker.deliver_due()
    smtp_sink.clear()
    notifications.send(registration, "reminder", offset_minutes=60)
    db.session.commit()
    frozen_clock.set(event.starts_at + timedelta(minutes=1))
    worker.deliver_due()
    row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).one()
    assert row.status == OutboxStatus.WITHHELD
    assert "already started" in row.last_error
    assert smtp_sink.received == []


def test_every_failed_message_of_a_webinar_or_a_period_is_retried_at_once(mail_app, smtp_sink, frozen_clock):
    first, second = make_event(capacity=20), make_event(capacity=20)
    for event in (first, second):
        for i in range(3):
            service.register(event, name="P", email=f"p{i}-{event.id}@example.org", consent=True)
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.FAILED, attempts=6, last_error="x"))
    db.session.commit()

    assert outbox.retry_failed(event_id=first.id) == 3
    worker.deliver_due()
    assert len(smtp_sink.received) == 3
    frozen_clock.advance(hours=1)
    assert outbox.retry_failed(since=frozen_clock.current) == 0
    assert outbox.retry_failed(since=frozen_clock.current - timedelta(days=1)) == 3
    worker.deliver_due()
    assert len(smtp_sink.received) == 6
    assert Counter(db.session.scalars(select(OutboxMessage.status))) == {OutboxStatus.SENT: 6}


def test_the_cli_retries_failed_mail_and_shows_the_relay(mail_app, smtp_sink):
    event = make_event(capacity=5)
    service.register(event, name="Ana", email="ana@example.org", consent=True)
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.FAILED))
    db.session.commit()
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["mail", "retry-failed", "--event", str(event.id)])
    assert result.exit_code == 0
    assert "Queued 1 failed" in result.output
    status = runner.invoke(args=["mail", "status"])
    assert status.exit_code == 0
    assert "relay: up" in status.output
    assert "queued: 1" in status.output


def test_a_message_that_breaks_every_session_ends_failed_and_holds_up_nobody(
    mail_app, smtp_sink, frozen_clock
):
    event = make_event(capacity=20)
    smtp_sink.dropping.add("breaker@example.org")
    addresses = ["a@example.org", "breaker@example.org", "b@example.org", "c@example.org"]
    for address in addresses:
        service.register(event, name="P", email=address, consent=True)
    for _ in range(60):
        worker.deliver_due()
        frozen_clock.advance(seconds=60)
    received = Counter(item.rcpt_tos[0] for item in smtp_sink.received)
    assert received == {"a@example.org": 1, "b@example.org": 1, "c@example.org": 1}
    rows = {row.recipient: row for row in db.session.scalars(select(OutboxMessage))}
    breaker = rows.pop("breaker@example.org")
    assert breaker.status == OutboxStatus.FAILED
    assert "connection broke" in breaker.last_error
    assert {row.status for row in rows.values()} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows.values()} == {1}


def test_worker_once_tries_a_relay_that_is_back_without_waiting_for_the_pause(mail_app, smtp_sink):
    event = make_event(capacity=5)
    service.register(event, name="Ana", email="ana@example.org", consent=True)
    smtp_sink.stop()
    worker.deliver_due()
    assert health.delivery_health().relay == RelayState.DOWN
    smtp_sink.start()
    assert worker.deliver_due() == 0  # the loop respects the pause
    result = mail_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert [item.rcpt_tos for item in smtp_sink.received] == [["ana@example.org"]]
    assert health.delivery_health().relay == RelayState.UP


def test_a_relay_that_refuses_the_session_spends_no_attempt_and_holds_up_nobody(
    mail_app, smtp_sink, frozen_clock
):
    event = make_event(capacity=20)
    smtp_sink.closing.add("closer@example.org")
    for address in ["closer@example.org", "a@example.org", "b@example.org"]:
        service.register(event, name="P", email=address, consent=True)
    for _ in range(30):
        worker.deliver_due()
        frozen_clock.advance(seconds=60)
    received = Counter(item.rcpt_tos[0] for item in smtp_sink.received)
    assert received == {"a@example.org": 1, "b@example.org": 1}
    closer = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "closer@example.org")
    ).one()
    assert closer.status == OutboxStatus.QUEUED
    assert closer.attempts == 0
    assert "421" in closer.last_error


def test_pauses_keep_growing_while_the_relay_greets_but_refuses_every_session(
    mail_app, smtp_sink, frozen_clock
):
    event = make_event(capacity=5)
    smtp_sink.closing.add("ana@example.org")
    service.register(event, name="Ana", email="ana@example.org", consent=True)
    failures = []
    for _ in range(4):
        worker.deliver_due()
        state = health.delivery_health()
        failures.append(state.consecutive_failures)
        # Past the pause, and past the first retry delay that put the message behind.
        frozen_clock.advance(seconds=mail_app.config["MAIL_RETRY_DELAYS"][0] + 1)
    assert failures == [1, 2, 3, 4]
    assert health.delivery_health().relay == RelayState.DOWN


def test_readiness_and_metrics_show_the_relay_the_workers_saw(mail_app, smtp_sink):
    from webinars.ops.health import mail_relay_health

    assert mail_relay_health() is None  # nothing known before a worker records anything
    service.register(make_event(capacity=5), name="Ana", email="ana@example.org", consent=True)
    smtp_sink.stop()
    worker.deliver_due()
    healthy, detail = mail_relay_health()
    assert healthy is False
    assert "next try" in detail
    client = mail_app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "mail_relay" in ready.get_data(as_text=True)
    assert "webinars_mail_relay_healthy 0" in client.get("/metrics").get_data(as_text=True)
