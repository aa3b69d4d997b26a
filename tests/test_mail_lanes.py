"""Launch-day mail: confirmations go before bulk mail, MAIL_MAX_PER_SECOND holds for every worker
together, and a reminder pass with nothing to do costs one query."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from types import TracebackType
from typing import Self

import pytest
from sqlalchemy import func, insert, select, text

from tests.factories import make_event, make_registration
from tests.helpers import calendar_of, html_of, recorded_statements, text_of
from webinars import clock
from webinars.extensions import db
from webinars.mail import notifications, outbox, reminders, worker
from webinars.models import MailKind, MailLane, OutboxMessage, ReminderDelivery
from webinars.text import display_name


class RecordingTransport:
    """Sends nothing; notes the Message-ID and the injected clock's time of every message."""

    def __init__(self, log: list[tuple[str, float]]) -> None:
        self.log = log

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def send(self, message: EmailMessage) -> None:
        self.log.append((str(message["Message-ID"]), clock.now().timestamp()))


@pytest.fixture
def slept(frozen_clock) -> Iterator[list[float]]:
    """Waiting moves the frozen clock instead of the test's time; the waits are recorded."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        frozen_clock.advance(seconds=seconds)

    clock.set_sleep(sleep)
    yield waits
    clock.set_sleep(None)


def queue(kind: MailKind, count: int, prefix: str) -> list[str]:
    messages = [
        outbox.enqueue(
            outbox.Envelope(kind=kind, recipient=f"{prefix}{n}@example.org", subject=f"{kind} {n}"),
            outbox.Content(body_text=f"Hello {n}"),
        )
        for n in range(count)
    ]
    db.session.commit()
    return [message.message_id for message in messages]


def per_second(sends: list[tuple[str, float]]) -> Counter[int]:
    return Counter(math.floor(moment) for _, moment in sends)


def test_every_kind_has_a_lane_and_only_mass_mail_is_bulk():
    bulk = {kind for kind in MailKind if kind.lane == MailLane.BULK}
    assert bulk == {MailKind.REMINDER, MailKind.MESSAGE, MailKind.RECORDING}
    assert MailKind.REGISTRATION_CONFIRMED.lane == MailLane.TRANSACTIONAL
    assert MailKind.PASSWORD_RESET.lane == MailLane.TRANSACTIONAL
    assert MailLane.TRANSACTIONAL < MailLane.BULK


def test_a_confirmation_queued_after_500_reminders_goes_in_the_first_batch(mail_app, frozen_clock):
    queue(MailKind.REMINDER, 500, "bulk")
    frozen_clock.advance(seconds=1)  # queued later, so a first-in-first-out queue would send it last
    event = make_event(capacity=10)
    registration = make_registration(event, "ana@example.org")
    confirmation = db.session.scalars(
        select(OutboxMessage.message_id).where(OutboxMessage.registration_id == registration.id)
    ).one()
    sends: list[tuple[str, float]] = []

    assert worker.deliver_batch(lambda: RecordingTransport(sends)) == 50

    assert sends[0][0] == confirmation
    assert len(sends) == 50


def test_rows_written_by_a_bulk_insert_take_their_kind_s_lane(app):
    now = clock.now()
    db.session.execute(
        insert(OutboxMessage),
        [
            {"kind": kind, "recipient": "a@example.org", "subject": "s", "message_id": f"<{kind}@test>"}
            | {"body_text": "x", "next_attempt_at": now}
            for kind in (MailKind.REMINDER, MailKind.PROMOTED)
        ],
    )
    db.session.commit()
    lanes = {kind: lane for kind, lane in db.session.execute(select(OutboxMessage.kind, OutboxMessage.lane))}
    assert lanes == {MailKind.REMINDER: MailLane.BULK, MailKind.PROMOTED: MailLane.TRANSACTIONAL}


def test_the_claim_walks_its_index_instead_of_sorting_the_queue(app):
    """The claim's query (see worker._lockable) reads the index in its ORDER BY's order and stops at
    its LIMIT: the plan names the index and has no sort step, on SQLite and on PostgreSQL."""
    queue(MailKind.REMINDER, 20, "bulk")
    query = (
        "SELECT id FROM outbox_message WHERE status = 'queued' AND next_attempt_at <= :now "
        "ORDER BY lane, next_attempt_at, id LIMIT 5"
    )
    now = clock.now()
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(text("EXPLAIN QUERY PLAN " + query), {"now": now.replace(tzinfo=None)})
        plan = " ".join(str(row[-1]) for row in rows)
        assert "ix_outbox_message_claim" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        # On a table of 20 rows PostgreSQL would rather scan it all; forbid that to see the plan a
        # real queue gets.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db.session.execute(text("EXPLAIN " + query), {"now": now}))
        assert "ix_outbox_message_claim" in plan, plan
        assert "Sort" not in plan, plan
    db.session.rollback()


def test_one_worker_starts_at_most_max_per_second_messages_in_any_second(mail_app, slept):
    mail_app.config["MAIL_MAX_PER_SECOND"] = 7
    queue(MailKind.REMINDER, 30, "bulk")
    sends: list[tuple[str, float]] = []

    worker.deliver_due(lambda: RecordingTransport(sends))

    assert len({message_id for message_id, _ in sends}) == 30
    windows = per_second(sends)
    assert max(windows.values()) == 7
    assert len(windows) == 5  # 7 + 7 + 7 + 7 + 2: no second left unused either
    assert slept
    assert all(0 < wait <= 1 for wait in slept)


def test_two_workers_share_one_max_per_second(app_factory, slept):
    """Two workers (each with its own engine, as on two machines) take turns on one outbox: the
    sum of their sends in any second stays within the cap."""
    apps = [app_factory(MAIL_MAX_PER_SECOND=10, WORKER_BATCH_SIZE=50) for _ in range(2)]
    with apps[0].app_context():
        queue(MailKind.REMINDER, 60, "bulk")
    sends: dict[int, list[tuple[str, float]]] = {0: [], 1: []}

    # Alternate batches between the workers, as two running loops would.
    while True:
        handled = 0
        for n, app in enumerate(apps):
            with app.app_context():
                handled += worker.deliver_batch(lambda n=n: RecordingTransport(sends[n]))
                db.session.remove()
        if not handled:
            break

    everything = sends[0] + sends[1]
    assert len({message_id for message_id, _ in everything}) == 60
    assert sends[0]
    assert sends[1]
    windows = per_second(everything)
    assert max(windows.values()) <= 10
    assert len(windows) == 6
    # Alone, each worker would have sent its share at 10 per second.
    assert max(per_second(sends[0]).values()) <= 10


class ArrivingTransport(RecordingTransport):
    """Each send takes 0.3 s of the frozen clock; after the third, someone signs up."""

    def __init__(self, log: list[tuple[str, float]], frozen_clock, arrival) -> None:
        super().__init__(log)
        self.frozen_clock, self.arrival = frozen_clock, arrival

    def send(self, message: EmailMessage) -> None:
        super().send(message)
        self.frozen_clock.advance(seconds=0.3)
        if len(self.log) == 3:
            self.arrival()


def test_a_confirmation_that_arrives_during_a_bulk_batch_goes_out_within_about_a_second(
    mail_app, frozen_clock
):
    queue(MailKind.REMINDER, 50, "bulk")
    arrived: list[str] = []
    sends: list[tuple[str, float]] = []

    def sign_up() -> None:
        arrived.extend(queue(MailKind.REGISTRATION_CONFIRMED, 1, "ana"))

    handled = worker.deliver_batch(lambda: ArrivingTransport(sends, frozen_clock, sign_up))

    order = [message_id for message_id, _ in sends]
    assert handled == 51
    assert len(order) == 51
    # Arrived after the third send (0.9 s in); looked for at 1 s, sent next: before the batch's end.
    assert order.index(arrived[0]) == 4


def test_transactional_mail_goes_first_within_the_cap(mail_app, slept):
    mail_app.config["MAIL_MAX_PER_SECOND"] = 5
    queue(MailKind.REMINDER, 20, "bulk")
    sends: list[tuple[str, float]] = []
    worker.deliver_batch(lambda: RecordingTransport(sends))
    confirmation = queue(MailKind.PROMOTED, 1, "ana")[0]

    worker.deliver_batch(lambda: RecordingTransport(sends))

    assert [message_id for message_id, _ in sends].index(confirmation) == 5


# --- the reminder pass ------------------------------------------------------------------------------


def test_a_reminder_pass_with_nothing_due_runs_one_query(mail_app, frozen_clock):
    event = make_event(capacity=50)
    for n in range(3):
        make_registration(event, f"person{n}@example.org")
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    assert reminders.enqueue_due() == 3

    frozen_clock.advance(minutes=10)  # the 24-hour window is still open
    with recorded_statements() as statements:
        assert reminders.enqueue_due() == 0
    assert len(statements) == 1, statements

    # Someone who signs up inside the window is still reminded by the next pass.
    make_registration(event, "late@example.org")
    assert reminders.enqueue_due() == 1
    with recorded_statements() as statements:
        assert reminders.enqueue_due() == 0
    assert len(statements) == 1, statements
    assert db.session.scalar(select(func.count()).select_from(ReminderDelivery)) == 4


def test_an_idle_pass_costs_one_query_with_many_registrations_too(mail_app, frozen_clock):
    event = make_event(capacity=100)
    for n in range(30):
        make_registration(event, f"person{n}@example.org")
    frozen_clock.set(event.starts_at - timedelta(minutes=60))
    assert reminders.enqueue_due() == 30
    with recorded_statements() as statements:
        assert reminders.enqueue_due() == 0
    assert len(statements) == 1, statements


def test_a_process_that_did_not_send_the_reminders_checks_once_then_idles(app_factory, frozen_clock):
    first, second = app_factory(), app_factory()
    with first.app_context():
        event = make_event(capacity=10)
        for n in range(3):
            make_registration(event, f"person{n}@example.org")
        frozen_clock.set(event.starts_at - timedelta(hours=24))
        assert reminders.enqueue_due() == 3
        db.session.remove()
    with second.app_context():
        assert reminders.enqueue_due() == 0  # sent by the other worker: looked at once
        with recorded_statements() as statements:
            assert reminders.enqueue_due() == 0
        assert len(statements) == 1, statements
        db.session.remove()


def test_a_rescheduled_webinar_is_looked_at_again(mail_app, frozen_clock):
    event = make_event(capacity=10)
    make_registration(event, "ana@example.org")
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    assert reminders.enqueue_due() == 1
    # Moved two days later, then the clock reaches its new 24-hour moment: the offset is the same,
    # the delivery row (registration, offset) already exists, so no second reminder goes out.
    event.starts_at = event.starts_at + timedelta(days=2)
    db.session.commit()
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    with recorded_statements() as statements:
        assert reminders.enqueue_due() == 0
    assert len(statements) > 1  # a start it has not seen is checked, not assumed done


# --- shared rendering -------------------------------------------------------------------------------

PEOPLE = [
    ("Ane Etxeberria", "ane@example.org", None, "en"),
    ("Bea Ruiz", "bea@example.org", None, "en"),  # the same email as Ane's but for the name
    ('O\'Brien & "Sons" <b>bold</b>', "obrien@example.org", "Europe/Madrid", "en"),
    ("José Ñúñez", "jose@example.org", "America/Santiago", "es"),
    ("Zoë", "zoe@example.org", "Asia/Tokyo", "pt"),
    ("{{ 7*7 }} %(name)s", "curly@example.org", "Europe/Madrid", "es"),
]


@pytest.mark.parametrize(
    "kind",
    [
        MailKind.REGISTRATION_CONFIRMED,
        MailKind.REMINDER,
        MailKind.EVENT_UPDATED,
        MailKind.EVENT_CANCELLED,
        MailKind.WAITLISTED,
    ],
)
def test_shared_rendering_gives_each_person_the_bytes_they_got_rendered_alone(app, frozen_clock, kind):
    event = make_event(capacity=5)  # the last person is waitlisted: another shape
    people = []
    for name, email, zone, locale in PEOPLE:
        registration = make_registration(event, email, name=name, timezone=zone)
        registration.locale = locale
        people.append(registration)
    db.session.commit()
    shared = notifications.SharedRendering()

    for registration in people + people:  # the second round comes from the cache
        subject = notifications.subject_for(registration, kind, offset_minutes=60)
        alone = notifications.render_content(registration, kind, subject=subject)
        together = shared.content(registration, kind, subject=subject)
        assert together == alone, registration.email
        assert registration.name not in together.body_html or "<" not in registration.name
    # Those who share a language, a zone line and a seat share one rendering.
    assert len(shared._bodies) < len(people)


def test_a_message_built_from_shared_parts_parses_as_before(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=10)
    for name, email, zone, locale in PEOPLE:
        registration = make_registration(event, email, name=name, timezone=zone)
        registration.locale = locale
    db.session.commit()
    worker.deliver_due()

    received = {message["To"].addresses[0].addr_spec: message for message in smtp_sink.messages()}
    for name, email, _, _ in PEOPLE:
        message = received[email]
        assert message["To"].addresses[0].display_name == display_name(name)
        body = text_of(message)
        assert name in body
        assert "\ufdd0" not in body
        assert "\ufdd0" not in html_of(message)
        assert calendar_of(message) is not None


def test_an_email_whose_template_reads_more_than_its_shape_is_rendered_per_person(app, monkeypatch):
    """Should a template start showing something of the person that the shape does not hold, each
    person still gets their own email: the sharing stops, the content stays right."""
    monkeypatch.setattr(notifications, "_SHAPED", notifications._SHAPED - {"timezone"})
    event = make_event(capacity=5)
    people = [
        make_registration(event, "ane@example.org", name="Ane", timezone="Europe/Madrid"),
        make_registration(event, "bea@example.org", name="Bea", timezone="Asia/Tokyo"),
    ]
    shared = notifications.SharedRendering()
    for registration in people:
        subject = notifications.subject_for(registration, MailKind.REMINDER, offset_minutes=60)
        alone = notifications.render_content(registration, MailKind.REMINDER, subject=subject)
        assert shared.content(registration, MailKind.REMINDER, subject=subject) == alone
    assert set(shared._bodies.values()) == {None}


def test_a_name_that_looks_like_a_stand_in_is_left_as_written(app, frozen_clock):
    event = make_event(capacity=5)
    odd = make_registration(event, "odd@example.org", name="\ufdd0manage\ufdd0")
    plain = make_registration(event, "plain@example.org", name="Plain")
    shared = notifications.SharedRendering()
    for registration in (plain, odd):
        subject = notifications.subject_for(registration, MailKind.REGISTRATION_CONFIRMED)
        alone = notifications.render_content(registration, MailKind.REGISTRATION_CONFIRMED, subject=subject)
        assert shared.content(registration, MailKind.REGISTRATION_CONFIRMED, subject=subject) == alone
