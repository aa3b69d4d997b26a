"""Mass mail with safeguards: each bulk send is previewed per language, can be sent as a test to the
organizer, leaves only once confirmed, and is fanned out by the worker (exactly once), not the request."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import edited, make_event, make_user
from tests.helpers import (
    assert_same_count,
    by_recipient,
    login,
    recorded_statements,
    submit,
    text_of,
    webinar_form,
)
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import notifications, worker
from webinars.massmail import service as massmail
from webinars.models import Broadcast, EventStatus, OutboxMessage, Registration
from webinars.registrations import service as registrations


def _person(event, i: int, *, locale: str = "en", timezone: str | None = None) -> Registration:
    return registrations.register(
        event, name=f"Person {i}", email=f"p{i}@example.org", consent=True, locale=locale, timezone=timezone
    ).registration


def _outbox_count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id))) or 0


def _frame(client, page: str) -> str:
    url = re.search(r'<iframe[^>]* src="([^"]+)"', page).group(1).replace("&amp;", "&")
    response = client.get(url)
    assert response.status_code == 200
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    return response.get_data(as_text=True)


def _expected(page: str) -> str:
    return re.search(r'name="expected" type="hidden" value="(\d+)"', page).group(1)


def _compose(client, event, **data) -> str:
    url = f"/manage/webinars/{event.id}/messages/new"
    response = submit(client, url, {"audience": "confirmed", "preview": "Preview", **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_review_counts_each_language_and_shows_the_one_chosen_rendered(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=10)
    _person(event, 0)
    _person(event, 1)
    _person(event, 2, locale="es")
    _person(event, 3, locale="pt")
    worker.deliver_due()
    client = mail_app.test_client()
    login(client, owner)

    review_url = _compose(client, event, subject="Slides", body="The **slides** are online.")
    page = client.get(review_url).get_data(as_text=True)
    assert "English: 2 recipients" in page
    assert "Spanish: 1 recipient" in page
    assert "Portuguese: 1 recipient" in page
    assert "This preview shows the email in English." in page
    assert "Send to 4 people" in page
    assert "Hello Attendee," in page  # the text version, with a stand-in for the reader's name
    assert "<strong>slides</strong>" in _frame(client, page)  # Markdown rendered, not raw

    spanish = client.get(f"{review_url}?email_lang=es").get_data(as_text=True)
    assert "This preview shows the email in Spanish." in spanish
    assert 'aria-current="page">Spanish' in spanish
    assert "Hola" in spanish
    assert "Hola" in _frame(client, spanish)
    assert worker.deliver_due() == 0  # nothing left while the organizer looked


def test_a_test_goes_only_to_the_organizer_marked_as_such_and_counts_for_nothing(mail_app, smtp_sink):
    owner = make_user(email="officer@example.org")
    event = make_event(owner, capacity=10)
    _person(event, 0)
    _person(event, 1, locale="es")
    worker.deliver_due()
    smtp_sink.clear()
    client = mail_app.test_client()
    login(client, owner)
    review_url = _compose(client, event, subject="Slides", body="The **slides**.")
    broadcast_id = int(review_url.rstrip("/").split("/")[-2])

    page = client.get(f"{review_url}?email_lang=es").get_data(as_text=True)
    test_url = review_url.replace("/review", "/test")
    response = submit(client, test_url, {"language": "es"}, form_page=f"{review_url}?email_lang=es")
    assert response.status_code == 302
    assert "Send to 2 people" in page
    worker.deliver_due()

    (test,) = smtp_sink.messages()
    assert test["To"].addresses[0].addr_spec == "officer@example.org"
    assert test["Subject"] == "[Prueba] Slides"  # marked as a test, in the language shown
    assert "Hola" in text_of(test)
    assert "<strong>slides</strong>" in test.get_body(preferencelist=("html",)).get_content()
    broadcast = db.session.get(Broadcast, broadcast_id)
    assert broadcast.confirmed_at is None
    assert db.session.scalar(select(func.count()).where(OutboxMessage.broadcast_id == broadcast_id)) == 0

    send_url = review_url.replace("/review", "/send")
    assert submit(client, send_url, {"expected": "2"}, form_page=review_url).status_code == 302
    worker.deliver_due()
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages()[1:]) == [
        "p0@example.org",
        "p1@example.org",
    ]
    progress = client.get(f"/manage/webinars/{event.id}/messages/{broadcast_id}").get_data(as_text=True)
    assert '<dt>Sent</dt><dd data-progress="sent">2</dd>' in progress  # the test is not one of them


def test_a_confirmation_for_fewer_people_than_the_audience_has_now_sends_nothing(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=10)
    _person(event, 0)
    _person(event, 1)
    worker.deliver_due()
    client = mail_app.test_client()
    login(client, owner)
    review_url = _compose(client, event, subject="Hello", body="Hi")
    expected = _expected(client.get(review_url).get_data(as_text=True))
    assert expected == "2"

    _person(event, 2)  # signs up while the organizer reads the preview
    worker.deliver_due()
    send_url = review_url.replace("/review", "/send")
    refused = submit(client, send_url, {"expected": expected}, form_page=review_url, follow_redirects=True)
    assert "it now goes to 3" in refused.get_data(as_text=True)
    assert "Send to 3 people" in refused.get_data(as_text=True)
    assert worker.deliver_due() == 0


def test_message_the_selection_reaches_only_the_people_ticked(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=10)
    people = [_person(event, i) for i in range(4)]
    worker.deliver_due()
    smtp_sink.clear()
    client = mail_app.test_client()
    login(client, owner)
    list_url = f"/manage/webinars/{event.id}/registrations"
    chosen = [people[1].id, people[3].id]
    response = submit(
        client,
        f"{list_url}/decide",
        {"decision": "message", "scope": "ticked", "registration": chosen},
        form_page=list_url,
    )
    assert response.status_code == 302
    composer = response.headers["Location"]
    page = client.get(composer).get_data(as_text=True)
    assert "the 2 people you selected" in page
    assert 'name="audience"' not in page

    previewed = submit(client, composer, {"subject": "Just you two", "body": "Hi", "preview": "Preview"})
    review_url = previewed.headers["Location"]
    page = client.get(review_url).get_data(as_text=True)
    assert "Send to 2 people" in page
    assert submit(client, review_url.replace("/review", "/send"), {"expected": "2"}, form_page=review_url)
    worker.deliver_due()
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages()) == [
        "p1@example.org",
        "p3@example.org",
    ]


def test_reschedule_form_shows_the_update_then_saving_sends_it_saying_what_changed(mail_app, smtp_sink):
    owner = make_user(email="officer@example.org")
    event = make_event(owner, capacity=100)
    old_start = event.starts_at
    _person(event, 0, timezone="Europe/Madrid")
    _person(event, 1, locale="es")
    worker.deliver_due()
    smtp_sink.clear()
    client = mail_app.test_client()
    login(client, owner)
    edit_url = f"/manage/webinars/{event.id}/edit"
    data = webinar_form(title=event.title)  # a new time, zone and join link

    shown = submit(client, edit_url, data)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200, page
    assert "Save and send the update to 2 people" in page
    assert "The start time changed." in page
    assert "Before:" in _frame(client, page)
    db.session.expire_all()
    assert event.starts_at == old_start  # not saved yet

    spanish = submit(client, edit_url, {**data, "preview_lang": "es"}).get_data(as_text=True)
    assert "This preview shows the email in Spanish." in spanish
    assert submit(client, edit_url, {**data, "notify": "test", "shown_lang": "es"}).status_code == 200
    worker.deliver_due()
    (test,) = smtp_sink.messages()
    assert test["To"].addresses[0].addr_spec == "officer@example.org"
    assert test["Subject"].startswith("[Prueba] ")
    assert "Hola" in text_of(test)
    db.session.expire_all()
    assert event.starts_at == old_start
    assert event.sequence == 0
    smtp_sink.clear()

    saved = submit(client, edit_url, {**data, "notify": "confirm"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert event.starts_at != old_start
    worker.deliver_due()
    (madrid,) = by_recipient(smtp_sink.messages(), "p0@example.org")
    text = text_of(madrid)
    assert "(Madrid, UTC+01:00)" in re.search(r"Before: (.*)", text).group(1)
    assert "Madrid, UTC+01:00" in re.search(r"Now: (.*)", text).group(1)
    assert "In the webinar's time zone: before" in text
    assert "Santiago" in text.split("Now:")[1]
    assert "The join link changed" in text
    (in_spanish,) = by_recipient(smtp_sink.messages(), "p1@example.org")
    assert "Antes:" in text_of(in_spanish)


def test_a_new_join_link_is_announced_as_such(mail_app, smtp_sink):
    event = make_event(capacity=10)
    _person(event, 0)
    worker.deliver_due()
    smtp_sink.clear()
    events.update_event(event, edited(event, join_url="https://meet.example.org/new-room"))
    worker.deliver_due()
    (update,) = smtp_sink.messages()
    text = text_of(update)
    assert "The join link changed" in text
    assert "https://meet.example.org/new-room" in text
    assert "The start time changed." not in text


def test_cancelling_shows_the_notice_first_and_cancels_on_confirmation(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=1)
    _person(event, 0)
    _person(event, 1)  # waitlisted
    worker.deliver_due()
    smtp_sink.clear()
    client = mail_app.test_client()
    login(client, owner)
    manage_page = f"/manage/webinars/{event.id}"
    response = submit(client, f"{manage_page}/cancel", {}, form_page=manage_page)
    review_url = response.headers["Location"]
    db.session.expire_all()
    assert event.status == EventStatus.PUBLISHED
    page = client.get(review_url).get_data(as_text=True)
    assert "Cancel the webinar and notify 2 people" in page
    assert worker.deliver_due() == 0

    confirm_url = re.search(r'action="([^"]*/cancel/\d+)"', page).group(1)
    assert submit(client, confirm_url, {"expected": "2"}, form_page=review_url).status_code == 302
    db.session.expire_all()
    assert event.status == EventStatus.CANCELLED
    worker.deliver_due()
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages()) == [
        "p0@example.org",
        "p1@example.org",
    ]


def _statements_of_reschedule(size: int) -> tuple[list[str], int]:
    event = make_event(capacity=None)
    for i in range(size):
        registrations.register(event, name=f"P{i}", email=f"n{size}-{i}@example.org", consent=True)
    before = _outbox_count()
    data = edited(event, starts_at=event.starts_at + timedelta(hours=3))
    with recorded_statements() as statements:
        assert events.update_event(event, data) is True
    return statements, _outbox_count() - before


def test_reschedule_in_the_request_is_constant_in_the_number_of_attendees(app):
    few, written_few = _statements_of_reschedule(3)
    many, written_many = _statements_of_reschedule(30)
    assert_same_count(few, many)
    assert written_few == written_many == 0  # the worker writes the per-person rows
    assert massmail.expand_pending() == 33


def test_fan_out_is_exactly_once_across_a_worker_that_dies_half_way(mail_app, smtp_sink, monkeypatch):
    monkeypatch.setattr(massmail, "CHUNK", 4)
    event = make_event(capacity=None)
    for i in range(10):
        _person(event, i)
    worker.deliver_due()
    smtp_sink.clear()
    events.update_event(event, edited(event, starts_at=event.starts_at + timedelta(days=1)))

    assert massmail.expand_pending() == 4  # first chunk committed
    real_send = notifications.send
    calls = {"n": 0}

    def dies_on_the_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(notifications, "send", dies_on_the_second)
    with pytest.raises(RuntimeError):
        massmail.expand_pending()
    db.session.rollback()  # what the process's death does to its open transaction
    db.session.remove()
    monkeypatch.setattr(notifications, "send", real_send)

    worker.deliver_due()  # a fresh worker: its producers finish the fan-out
    updates = [m for m in smtp_sink.messages() if "Updated" in str(m["Subject"])]
    assert Counter(m["To"].addresses[0].addr_spec for m in updates) == {
        f"p{i}@example.org": 1 for i in range(10)
    }


def test_an_update_fanned_out_before_a_cancellation_arrives_before_it(mail_app, smtp_sink):
    event = make_event(capacity=None)
    _person(event, 0)
    worker.deliver_due()
    smtp_sink.clear()
    events.update_event(event, edited(event, starts_at=event.starts_at + timedelta(days=1)))
    events.cancel_event(event)
    worker.deliver_due()
    assert [str(m["Subject"]).strip().split(":")[0] for m in smtp_sink.messages()] == ["Updated", "Cancelled"]
