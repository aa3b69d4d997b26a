"""Organizer follow-up: messages with preview and progress, recording email, attendance, email log."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from tests.factories import make_event, make_user
from tests.helpers import login, submit
from webinars.broadcasts import service as broadcasts
from webinars.extensions import db
from webinars.mail import worker
from webinars.massmail import service as massmail
from webinars.models import Broadcast, OutboxMessage, OutboxStatus, Registration
from webinars.registrations import service


def _people(event, confirmed: int, waitlisted: int = 0) -> list[Registration]:
    return [
        service.register(event, name=f"Person {i}", email=f"p{i}@example.org", consent=True).registration
        for i in range(confirmed + waitlisted)
    ]


def _recipients(smtp_sink, subject_start: str) -> list[str]:
    return sorted(
        m["To"].addresses[0].addr_spec for m in smtp_sink.messages() if m["Subject"].startswith(subject_start)
    )


def _confirm(client, review_url: str):
    """Press the review page's "Send to N people" button (its form carries the number shown)."""
    page = client.get(review_url).get_data(as_text=True)
    expected = re.search(r'name="expected" type="hidden" value="(\d+)"', page).group(1)
    return submit(
        client, review_url.replace("/review", "/send"), {"expected": expected}, form_page=review_url
    )


def test_message_is_previewed_then_sent_to_the_chosen_audience(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=2)
    _people(event, confirmed=2, waitlisted=1)
    worker.deliver_due()  # their confirmations
    client = mail_app.test_client()
    login(client, owner)
    url = f"/manage/webinars/{event.id}/messages/new"
    data = {"audience": "confirmed", "subject": "Slides for Tuesday", "body": "Download the **slides** here."}

    previewed = submit(client, url, {**data, "preview": "Preview"})
    assert previewed.status_code == 302
    review_url = previewed.headers["Location"]
    page = client.get(review_url).get_data(as_text=True)
    assert "Send to 2 people" in page
    assert "Download the **slides** here." in page  # the plain-text version, as mail programs show it
    frame = client.get(re.search(r'src="([^"]*preview\.html[^"]*)"', page).group(1).replace("&amp;", "&"))
    assert "<strong>slides</strong>" in frame.get_data(as_text=True)
    assert worker.deliver_due() == 0  # nothing leaves before the confirmation

    sent = _confirm(client, review_url)
    assert sent.status_code == 302
    progress_url = sent.headers["Location"]
    assert "0%" in client.get(progress_url).get_data(as_text=True)

    worker.deliver_due()
    assert _recipients(smtp_sink, "Slides for Tuesday") == ["p0@example.org", "p1@example.org"]
    message = next(m for m in smtp_sink.messages() if m["Subject"] == "Slides for Tuesday")
    assert "<strong>slides</strong>" in message.get_body(preferencelist=("html",)).get_content()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert event.join_url in message.get_body(preferencelist=("plain",)).get_content()  # confirmed only
    page = client.get(progress_url).get_data(as_text=True)
    assert "100%" in page
    assert "All done." in page


def test_large_message_is_expanded_in_chunks_and_progress_counts_it(mail_app, smtp_sink, monkeypatch):
    monkeypatch.setattr(massmail, "CHUNK", 4)
    event = make_event(capacity=None)
    _people(event, confirmed=10)
    broadcast = broadcasts.create(event, None, audience="all", subject="Hello all", body_md="Hi")
    assert broadcast.total == 10

    broadcasts.expand_pending()
    progress = broadcasts.progress(broadcast)
    assert progress.expanding
    assert progress.queued == 10
    assert progress.sent == 0

    worker.deliver_due()
    db.session.refresh(broadcast)
    progress = broadcasts.progress(broadcast)
    assert progress.done
    assert progress.sent == 10
    assert progress.percent == 100
    assert len(_recipients(smtp_sink, "Hello all")) == 10


def test_waitlisted_audience_and_unsubscribed_people_are_respected(mail_app, smtp_sink):
    event = make_event(capacity=1)
    people = _people(event, confirmed=1, waitlisted=2)
    service.unsubscribe(people[2])
    broadcasts.create(event, None, audience="waitlisted", subject="Waitlist news", body_md="Soon")
    worker.deliver_due()
    assert _recipients(smtp_sink, "Waitlist news") == ["p1@example.org"]
    (message,) = [m for m in smtp_sink.messages() if m["Subject"] == "Waitlist news"]
    assert event.join_url not in message.get_body(preferencelist=("plain",)).get_content()


def test_recording_email_goes_only_to_those_marked_absent(mail_app, smtp_sink, frozen_clock):
    owner = make_user()
    event = make_event(owner, capacity=10)
    present, missing, unknown = _people(event, confirmed=3)
    client = mail_app.test_client()
    login(client, owner)
    registrations_page = f"/manage/webinars/{event.id}/registrations"
    for person, value in ((present, "attended"), (missing, "absent")):
        response = submit(
            client,
            f"/manage/webinars/{event.id}/registrations/{person.id}/attendance",
            {"attended": value},
            form_page=registrations_page,
        )
        assert response.status_code == 302
    db.session.expire_all()
    assert (present.attended, missing.attended, unknown.attended) == (True, False, None)

    frozen_clock.set(event.ends_at)  # the webinar has happened: its recording can be added
    response = submit(
        client,
        f"/manage/webinars/{event.id}/recording",
        {
            "recording_url": "https://video.example.org/webinar-16",
            "recording_summary": "Key *ideas*.",
            "notify": "absent",
        },
    )
    assert response.status_code == 302
    worker.deliver_due()
    assert _recipients(smtp_sink, "Recording available") == []  # shown first, sent when confirmed
    assert _confirm(client, response.headers["Location"]).status_code == 302
    worker.deliver_due()
    assert _recipients(smtp_sink, "Recording available") == ["p1@example.org", "p2@example.org"]
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert "https://video.example.org/webinar-16" in page
    assert "<em>ideas</em>" in page


def test_email_log_shows_failures_and_retries_them(mail_app, smtp_sink, frozen_clock):
    owner = make_user()
    event = make_event(owner, capacity=5)
    smtp_sink.refused.add("p0@example.org")
    _people(event, confirmed=2)
    worker.deliver_due()
    client = mail_app.test_client()
    login(client, owner)

    log_url = f"/manage/webinars/{event.id}/emails"
    page = client.get(log_url + "?status=failed").get_data(as_text=True)
    assert "p0@example.org" in page
    assert "550" in page
    assert "p1@example.org" not in page
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    ).one()

    smtp_sink.refused.clear()
    response = submit(client, f"{log_url}/{failed.id}/retry", {}, form_page=log_url)
    assert response.status_code == 302
    worker.deliver_due()
    db.session.refresh(failed)
    assert failed.status == OutboxStatus.SENT
    assert Counter(r.rcpt_tos[0] for r in smtp_sink.received) == {"p0@example.org": 1, "p1@example.org": 1}


def test_resend_invitation_to_one_attendee(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=5)
    (person,) = _people(event, confirmed=1)
    worker.deliver_due()
    client = mail_app.test_client()
    login(client, owner)
    response = submit(
        client,
        f"/manage/webinars/{event.id}/registrations/{person.id}/resend",
        {},
        form_page=f"/manage/webinars/{event.id}/registrations",
    )
    assert response.status_code == 302
    worker.deliver_due()
    subjects = [m["Subject"] for m in smtp_sink.messages()]
    assert subjects == [f"You're registered: {event.title}", f"Your invitation: {event.title}"]


def test_follow_up_pages_are_private_to_the_owner(mail_app):
    event = make_event(make_user(), capacity=5)
    (person,) = _people(event, confirmed=1)
    client = mail_app.test_client()
    login(client, make_user())
    for url in (
        f"/manage/webinars/{event.id}/emails",
        f"/manage/webinars/{event.id}/messages/new",
        f"/manage/webinars/{event.id}/recording",
    ):
        assert client.get(url).status_code == 404, url
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        client.get("/manage/webinars/new").get_data(as_text=True),
    ).group(1)
    response = client.post(
        f"/manage/webinars/{event.id}/registrations/{person.id}/resend", data={"csrf_token": token}
    )
    assert response.status_code == 404


def test_an_audience_or_status_outside_the_enums_is_refused_beside_the_field(client, app, auth):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    url = f"/manage/webinars/{event.id}/messages/new"
    data = {"audience": "everyone-ever", "subject": "Hello", "body": "Hi", "send": "Send"}

    response = submit(client, url, data)
    assert response.status_code == 200, "a hand-made audience must be an error on the form, not a 500"
    assert '<p class="error">' in response.get_data(as_text=True)
    assert db.session.scalar(select(Broadcast.id)) is None
    emails = client.get(f"/manage/webinars/{event.id}/emails?status=nonsense")
    assert emails.status_code == 200, "an unknown status filter shows every email"
