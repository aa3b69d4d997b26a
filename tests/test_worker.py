"""Several workers share one outbox: every message is delivered exactly once."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from tests.factories import make_event
from tests.helpers import deliver_with_workers_at_once
from webinars.extensions import db
from webinars.mail import outbox, worker
from webinars.models import OutboxMessage, OutboxStatus
from webinars.registrations import service


def _enqueue(count: int) -> None:
    for i in range(count):
        outbox.enqueue(
            kind="test",
            recipient=f"person{i}@example.org",
            subject=f"Message {i}",
            body_text=f"Hello {i}",
        )
    db.session.commit()


def test_two_workers_deliver_200_messages_each_exactly_once(app_factory, smtp_sink):
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_sink.port, "WORKER_BATCH_SIZE": 10}
    apps = [app_factory(**settings) for _ in range(2)]
    with apps[0].app_context():
        _enqueue(200)

    handled = deliver_with_workers_at_once(apps)

    ids = Counter(message["Message-ID"] for message in smtp_sink.messages())
    assert len(ids) == 200
    assert set(ids.values()) == {1}
    assert sum(handled) == 200
    with apps[0].app_context():
        statuses = Counter(db.session.scalars(select(OutboxMessage.status)))
        assert statuses == {OutboxStatus.SENT: 200}


def test_worker_once_command_delivers_and_exits_zero(mail_app, smtp_sink):
    event = make_event(capacity=5)
    service.register(event, name="Ane", email="ane@example.org", consent=True)
    result = mail_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Handled 1 message" in result.output
    assert len(smtp_sink.received) == 1
    assert db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)) == 1


def test_worker_loop_stops_when_asked(mail_app, smtp_sink):
    event = make_event(capacity=5)
    service.register(event, name="Ane", email="ane@example.org", consent=True)
    stop = threading.Event()

    def loop() -> None:
        with mail_app.app_context():
            worker.run_forever(stop, poll_seconds=0.05)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        for _ in range(200):
            if smtp_sink.received:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(smtp_sink.received) == 1


def test_a_refused_recipient_fails_at_once_without_retries(mail_app, smtp_sink):
    smtp_sink.refused.add("person0@example.org")
    _enqueue(2)
    worker.deliver_due()
    rows = {row.recipient: row for row in db.session.scalars(select(OutboxMessage))}
    refused = rows["person0@example.org"]
    assert refused.status == OutboxStatus.FAILED
    assert refused.attempts == 1
    assert "550" in refused.last_error
    assert rows["person1@example.org"].status == OutboxStatus.SENT
    assert [r.rcpt_tos for r in smtp_sink.received] == [["person1@example.org"]]


def test_claims_left_by_a_database_outage_are_given_back_when_it_returns(mail_app, smtp_sink, monkeypatch):
    from sqlalchemy.exc import OperationalError

    _enqueue(3)
    real_record = worker._record
    calls = {"n": 0}

    def database_gone_after_first(message_id, **values):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OperationalError("UPDATE outbox_message", {}, Exception("server closed the connection"))
        real_record(message_id, **values)

    monkeypatch.setattr(worker, "_record", database_gone_after_first)
    try:
        worker.deliver_due()
    except OperationalError:
        pass
    else:
        raise AssertionError("the outage should reach the worker loop")
    statuses = Counter(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.SENT: 1, OutboxStatus.SENDING: 2}

    monkeypatch.setattr(worker, "_record", real_record)
    worker.deliver_due()  # no waiting for the lease: the same process gives its claims back
    db.session.expire_all()
    assert Counter(db.session.scalars(select(OutboxMessage.status))) == {OutboxStatus.SENT: 3}
    # The message being sent when the database went away goes out once more: at least once, never lost.
    assert sorted(Counter(r.rcpt_tos[0] for r in smtp_sink.received).values()) == [1, 1, 2]
