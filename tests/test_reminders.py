"""Reminders, with an injected clock: the worker produces them when their moment comes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import JOIN_URL, edited, make_event, make_registration
from tests.helpers import calendar_of, deliver_with_workers_at_once, text_of
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import OutboxMessage, ReminderDelivery


def reminders_received(smtp_sink) -> list:
    return [m for m in smtp_sink.messages() if m["Subject"].startswith("Starts in")]


def test_default_offsets_send_one_reminder_each_to_confirmed_only(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=2)
    for address in ("a@example.org", "b@example.org", "waiting@example.org"):
        make_registration(event, address)
    worker.deliver_due()
    smtp_sink.clear()

    frozen_clock.set(event.starts_at - timedelta(hours=24))
    worker.deliver_due()
    day_before = reminders_received(smtp_sink)
    assert sorted(m["To"].addresses[0].addr_spec for m in day_before) == ["a@example.org", "b@example.org"]
    assert all("1 day" in m["Subject"] for m in day_before), [m["Subject"] for m in day_before]

    message = day_before[0]
    # A reminder is not an invitation: no calendar part that would re-add a deleted event.
    assert calendar_of(message) is None
    assert not any(part.get_content_type() in ("text/calendar", "application/ics") for part in message.walk())
    body = text_of(message)
    assert JOIN_URL in body
    assert f"/webinars/{event.slug}/calendar.ics" in body
    assert "calendar.google.com" in body
    # Folded before the URL (RFC 5322 FWS), so the value may begin with a space.
    assert message["List-Unsubscribe"].strip().startswith("<http://webinars.test/r/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    frozen_clock.advance(hours=1)
    worker.deliver_due()
    assert len(reminders_received(smtp_sink)) == 2  # nothing new between the two moments

    frozen_clock.set(event.starts_at - timedelta(minutes=60))
    worker.deliver_due()
    frozen_clock.advance(minutes=5)
    worker.deliver_due()
    subjects = Counter(m["Subject"].split(":")[0] for m in reminders_received(smtp_sink))
    assert subjects == {"Starts in 1 day": 2, "Starts in 1 hour": 2}


def test_offsets_are_per_webinar_and_can_be_switched_off(mail_app, smtp_sink, frozen_clock):
    custom = make_event(capacity=5, reminder_offsets="30")
    silent = make_event(capacity=5, reminder_offsets="", title="Silent")
    make_registration(custom, "a@example.org")
    make_registration(silent, "b@example.org")
    for moment in (timedelta(hours=24), timedelta(hours=1), timedelta(minutes=30)):
        frozen_clock.set(custom.starts_at - moment)
        worker.deliver_due()
    received = reminders_received(smtp_sink)
    assert [m["To"].addresses[0].addr_spec for m in received] == ["a@example.org"]
    assert "30 minutes" in received[0]["Subject"]


def test_rescheduling_moves_the_reminders(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    make_registration(event, "a@example.org")
    old_start = event.starts_at
    new_start = old_start + timedelta(days=2)
    data = edited(event, starts_at=new_start)
    events.update_event(event, data)
    worker.deliver_due()
    smtp_sink.clear()

    frozen_clock.set(old_start - timedelta(hours=24))
    worker.deliver_due()
    assert reminders_received(smtp_sink) == []

    frozen_clock.set(new_start - timedelta(hours=24))
    worker.deliver_due()
    assert len(reminders_received(smtp_sink)) == 1


def test_late_registration_gets_no_reminder_whose_moment_has_passed(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    frozen_clock.set(event.starts_at - timedelta(minutes=30))
    make_registration(event, "late@example.org")
    worker.deliver_due()
    frozen_clock.advance(minutes=29)
    worker.deliver_due()
    assert reminders_received(smtp_sink) == []
    assert len(smtp_sink.received) == 1  # the confirmation with the invitation


def test_two_workers_never_send_a_reminder_twice(app_factory, smtp_sink, frozen_clock):
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_sink.port}
    apps = [app_factory(**settings) for _ in range(2)]
    with apps[0].app_context():
        event = make_event(capacity=100)
        for i in range(30):
            make_registration(event, f"p{i}@example.org")
        worker.deliver_due()
        smtp_sink.clear()
        start = event.starts_at

    frozen_clock.set(start - timedelta(hours=24))
    deliver_with_workers_at_once(apps)

    per_person = Counter(m["To"].addresses[0].addr_spec for m in reminders_received(smtp_sink))
    assert len(per_person) == 30
    assert set(per_person.values()) == {1}


def test_the_database_refuses_a_second_reminder_for_one_offset(app):
    event = make_event(capacity=5)
    registration = make_registration(event, "a@example.org")
    db.session.add(ReminderDelivery(registration_id=registration.id, offset_minutes=60))
    db.session.commit()
    db.session.add(ReminderDelivery(registration_id=registration.id, offset_minutes=60))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_click_unsubscribe_stops_reminders_but_not_updates(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    make_registration(event, "stay@example.org")
    leaving = make_registration(event, "leave@example.org")
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    worker.deliver_due()
    message = next(m for m in reminders_received(smtp_sink) if "leave@" in str(m["To"]))
    url = message["List-Unsubscribe"].strip().strip("<>").removeprefix("http://webinars.test")

    client = mail_app.test_client()
    assert "Unsubscribe" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})  # as a mailbox provider does
    assert response.status_code == 200
    db.session.refresh(leaving)
    assert leaving.unsubscribed_at is not None
    smtp_sink.clear()

    frozen_clock.set(event.starts_at - timedelta(minutes=60))
    worker.deliver_due()
    assert [str(m["To"]) for m in reminders_received(smtp_sink)] == ["Ane Etxeberria <stay@example.org>"]

    data = edited(event, title="New title")
    events.update_event(event, data)
    worker.deliver_due()
    updated = [m for m in smtp_sink.messages() if m["Subject"].startswith("Updated")]
    assert len(updated) == 2  # transactional mail still reaches the unsubscribed person
    assert client.get("/r/unsubscribe/forged-token").status_code == 404


def test_worker_once_enqueues_due_reminders(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    make_registration(event, "a@example.org")
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    result = mail_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0
    kinds = Counter(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == {"registration_confirmed": 1, "reminder": 1}
    assert db.session.scalar(select(func.count(ReminderDelivery.id))) == 1
