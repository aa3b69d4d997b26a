"""Hostile content is refused at the form with a field error (never a 500), and a repeated sign-up
cannot touch someone else's registration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_event, make_user
from tests.helpers import register_form, submit, webinar_form
from webinars.extensions import db
from webinars.models import Event, OutboxMessage, OutboxStatus, Registration, RegistrationStatus
from webinars.registrations import service

CONTROL_ERROR = "Remove the control characters (line breaks, tabs) from this field."


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Webinar\r\nBcc: victim@example.org"),
        ("title", "Webinar\x00"),
        ("join_url", "https://meet.example.org/room\r\nBcc: x@example.org"),
        ("speakers-0-name", "Ane\x1b[31m"),
    ],
)
def test_event_form_refuses_control_characters_with_a_field_error(client, app, auth, field, value):
    auth.login(make_user())
    response = submit(client, "/manage/webinars/new", webinar_form(**{field: value}))
    assert response.status_code == 200
    assert CONTROL_ERROR in response.get_data(as_text=True)
    assert db.session.scalars(select(Event)).first() is None


def test_a_description_keeps_its_line_breaks_but_not_other_controls(client, app, auth):
    auth.login(make_user())
    refused = submit(client, "/manage/webinars/new", webinar_form(description="One\r\nTwo\x07"))
    assert "Remove the control characters from this field." in refused.get_data(as_text=True)
    accepted = submit(client, "/manage/webinars/new", webinar_form(description="One\r\n\r\nTwo\twith a tab"))
    assert accepted.status_code == 302


@pytest.mark.parametrize("start_date", ["9999-12-31", "1999-12-31", "2101-01-01"])
def test_dates_are_bounded(client, app, auth, start_date):
    auth.login(make_user())
    response = submit(client, "/manage/webinars/new", webinar_form(start_date=start_date, start_time="23:30"))
    assert response.status_code == 200
    assert "Choose a date between 2000 and 2100." in response.get_data(as_text=True)


def test_sign_up_refuses_control_characters_and_non_ascii_local_parts(client, app):
    event = make_event(capacity=5)
    url = f"/webinars/{event.slug}"
    response = submit(client, url, register_form(name="Ana\r\nBcc: victim@example.org"))
    assert response.status_code == 400
    assert CONTROL_ERROR in response.get_data(as_text=True)
    response = submit(client, url, register_form(email="josé@example.net"))
    assert response.status_code == 400
    assert "our mail server cannot deliver to this address" in response.get_data(as_text=True)
    assert db.session.scalars(select(Registration)).first() is None
    assert submit(client, url, register_form(email="ana@ñandú.cl")).status_code == 302


def test_message_subjects_cannot_carry_line_breaks(client, app, auth):
    owner = make_user()
    event = make_event(owner, capacity=5)
    auth.login(owner)
    response = submit(
        client,
        f"/manage/webinars/{event.id}/messages/new",
        {"audience": "confirmed", "subject": "Hi\r\nBcc: victim@example.org", "body": "Hello", "send": "1"},
    )
    assert response.status_code == 200
    assert CONTROL_ERROR in response.get_data(as_text=True)


def test_a_repeated_sign_up_answers_the_same_and_changes_nothing(client, app):
    event = make_event(capacity=5)
    url = f"/webinars/{event.slug}"
    registration = service.register(
        event, name="Ana", email="ana@example.org", organisation="UdeC", consent=True
    ).registration
    service.cancel(registration)
    fresh = submit(client, url, register_form(name="Bea", email="bea@example.org"))
    again = submit(client, url, register_form(name="Mallory", email="ana@example.org", organisation="X"))
    assert (fresh.status_code, fresh.headers["Location"]) == (again.status_code, again.headers["Location"])
    db.session.refresh(registration)
    assert registration.status == RegistrationStatus.CANCELLED
    assert (registration.name, registration.organisation) == ("Ana", "UdeC")


def test_the_owner_registers_again_from_the_manage_page(client, app):
    event = make_event(capacity=5)
    registration = service.register(event, name="Ana", email="ana@example.org", consent=True).registration
    service.cancel(registration)
    page = f"/r/{registration.token}"
    assert "Register again" in client.get(page).get_data(as_text=True)
    response = submit(client, f"{page}/register-again", {}, form_page=page, follow_redirects=True)
    assert "You are registered again" in response.get_data(as_text=True)
    db.session.refresh(registration)
    assert registration.status == RegistrationStatus.CONFIRMED


def test_the_email_log_retries_every_failed_message_in_one_action(client, app, auth):
    owner = make_user()
    event = make_event(owner, capacity=5)
    for i in range(3):
        service.register(event, name="P", email=f"p{i}@example.org", consent=True)
    for message in db.session.scalars(select(OutboxMessage)):
        message.status, message.attempts = OutboxStatus.FAILED, 6
    db.session.commit()
    auth.login(owner)
    log = f"/manage/webinars/{event.id}/emails"
    assert "Retry failed emails" in client.get(log).get_data(as_text=True)
    response = submit(client, f"{log}/retry-failed", {}, form_page=log, follow_redirects=True)
    assert "3 failed email(s) queued again." in response.get_data(as_text=True)
    db.session.expire_all()
    statuses = {(m.status, m.attempts) for m in db.session.scalars(select(OutboxMessage))}
    assert statuses == {(OutboxStatus.QUEUED, 0)}


def test_renderers_drop_what_older_rows_hold_instead_of_failing(client, app):
    import xml.etree.ElementTree as ElementTree

    from icalendar import Calendar
    from sqlalchemy import update

    from webinars.calendar import feeds

    event = make_event(capacity=5)
    db.session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(
            title="Old\r\nrow\x0b with \x1b controls",  # no NUL: PostgreSQL text cannot hold one
            summary="Line\x07 one\r\nline two",
            join_url="https://meet.example.org/x\r\ny",
        )
    )
    db.session.commit()
    feeds.clear_cache()
    for url in (f"/webinars/{event.slug}/calendar.ics", "/calendar.ics"):
        response = client.get(url)
        assert response.status_code == 200, url
        (vevent,) = Calendar.from_ical(response.data).walk("VEVENT")
        assert str(vevent["SUMMARY"]) == "Old row with controls"
    atom = client.get("/feeds/webinars.atom")
    assert atom.status_code == 200
    titles = [e.text for e in ElementTree.fromstring(atom.data).iter("{http://www.w3.org/2005/Atom}title")]
    assert "Old\r\nrow with controls" not in titles
    assert any(t and "controls" in t for t in titles)


def test_administrators_retry_failed_mail_of_a_period_across_webinars(client, app, auth, frozen_clock):
    first, second = make_event(capacity=5), make_event(capacity=5)
    service.register(first, name="A", email="a@example.org", consent=True)
    frozen_clock.advance(days=2)
    service.register(second, name="B", email="b@example.org", consent=True)
    for message in db.session.scalars(select(OutboxMessage)):
        message.status = OutboxStatus.FAILED
    db.session.commit()

    auth.login(make_user(admin=True))
    page = client.get("/manage/mail/").get_data(as_text=True)
    assert "Failed: 2" in page
    today = frozen_clock.current.date()
    response = submit(
        client,
        "/manage/mail/retry-failed",
        {"since": str(today - timedelta(days=1)), "until": str(today)},
        form_page="/manage/mail/",
        follow_redirects=True,
    )
    assert "1 failed email(s) queued again." in response.get_data(as_text=True)
    statuses = dict(db.session.execute(select(OutboxMessage.recipient, OutboxMessage.status)).all())
    assert statuses == {"a@example.org": OutboxStatus.FAILED, "b@example.org": OutboxStatus.QUEUED}
    bad = submit(client, "/manage/mail/retry-failed", {"since": "9999-01-01"}, form_page="/manage/mail/")
    assert bad.status_code == 400
    assert "Choose a date between 2000 and 2100." in bad.get_data(as_text=True)


def test_the_mail_page_is_for_administrators_only(client, app, auth):
    auth.login(make_user())
    assert client.get("/manage/mail/").status_code == 403
