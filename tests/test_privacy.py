"""Personal data: the attendee's download and erasure, the organizer's erasure, the retention purge."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_event, make_user
from tests.helpers import submit
from webinars.attendance import service as attendance
from webinars.attendance.parsers import Participant, Report
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import Answer, Event, OutboxMessage, ParticipantRecord, Registration
from webinars.privacy import service as privacy
from webinars.questions import service as questions
from webinars.questions.service import QuestionData
from webinars.registrations import service as registrations


def _register(event, email: str, name: str, answers: dict[int, str] | None = None) -> Registration:
    return registrations.register(event, name=name, email=email, consent=True, answers=answers).registration


def _everything_visible_to_the_organizer(client, event) -> str:
    pages = [
        f"/manage/webinars/{event.id}/registrations",
        f"/manage/webinars/{event.id}/registrations.csv",
        f"/manage/webinars/{event.id}/emails",
        f"/manage/webinars/{event.id}/attendance/",
    ]
    return "\n".join(client.get(page).get_data(as_text=True) for page in pages)


def test_attendee_downloads_their_data_then_erases_it(auth, client, app):
    owner = make_user()
    event = make_event(owner, capacity=1)
    country = questions.add_question(event, QuestionData(kind="country", label="Country"))
    note = questions.add_question(event, QuestionData(kind="short_text", label="Job title"))
    holder = _register(
        event, "ana@example.org", "Ana Pérez", {country.id: "CL", note.id: "Mayor of Valparaíso"}
    )
    waiting = _register(event, "bruno@example.org", "Bruno Silva")
    assert waiting.status == "waitlisted"
    worker.deliver_due()

    download = client.get(f"/r/{holder.token}/data.json")
    assert download.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(download.get_data(as_text=True))
    assert data["registration"]["email"] == "ana@example.org"
    assert {"question": "Country", "answer": "Chile"} in data["answers"]
    assert data["emails"][0]["kind"] == "registration_confirmed"

    old_link = f"/r/{holder.token}"
    response = submit(client, f"{old_link}/erase", {}, form_page=old_link)
    assert response.status_code == 200
    assert "Your data was erased" in response.get_data(as_text=True)
    assert client.get(old_link).status_code == 404

    db.session.expire_all()
    assert waiting.status == "confirmed"  # the seat went to the waitlist
    assert db.session.get(Event, event.id).seats_taken == 1
    assert holder.status == "cancelled"
    assert holder.erased_at is not None
    assert [(a.question_label, a.value) for a in holder.answers] == [("Country", "CL")]  # choices stay

    auth.login(owner)
    visible = _everything_visible_to_the_organizer(client, event)
    for trace in ("Ana Pérez", "ana@example.org", "Mayor of Valparaíso"):
        assert trace not in visible
    assert not db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.recipient == "ana@example.org"))


def test_organizer_erases_one_person(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    person = _register(event, "carmen@example.org", "Carmen López")
    attendance.import_report(
        event, Report("zoom", [Participant("Carmen López", "carmen@example.org", seconds=3000)]), 10
    )
    auth.login(owner)
    page = f"/manage/webinars/{event.id}/registrations"
    assert submit(client, f"{page}/{person.id}/erase", {}, form_page=page).status_code == 302
    db.session.expire_all()
    assert person.attended is True
    assert person.attended_minutes == 50  # attendance kept for the counts
    assert "Carmen" not in _everything_visible_to_the_organizer(client, event)
    other = make_event()
    stranger = _register(other, "x@example.org", "Stranger")
    response = submit(client, f"{page}/{stranger.id}/erase", {}, form_page=page)
    assert response.status_code == 404


def test_worker_purges_personal_data_after_the_retention_period(app, frozen_clock):
    app.config["RETENTION_DAYS"] = 30
    event = make_event(starts_in=timedelta(days=2))
    recent = make_event(starts_in=timedelta(days=20))
    country = questions.add_question(event, QuestionData(kind="country", label="Country"))
    note = questions.add_question(event, QuestionData(kind="long_text", label="Comments"))
    person = _register(event, "ana@example.org", "Ana Pérez", {country.id: "BR", note.id: "Call me Ana"})
    kept = _register(recent, "bruno@example.org", "Bruno Silva")
    attendance.import_report(
        event,
        Report(
            "teams", [Participant("Ana Pérez", "ana@example.org", 3600), Participant("Guest", "g@x.org", 60)]
        ),
        10,
    )

    frozen_clock.advance(days=31)
    assert privacy.purge_expired() == 0  # 29 days after the webinar: not yet
    frozen_clock.advance(days=2)
    assert privacy.purge_expired() == 1
    assert privacy.purge_expired() == 0  # done once

    db.session.expire_all()
    assert person.name == privacy.ERASED_NAME
    assert person.email.endswith("@erased.invalid")
    assert person.status == "confirmed"
    assert person.attended is True  # counts and attendance stay
    assert db.session.scalars(select(Answer.value).where(Answer.registration_id == person.id)).all() == ["BR"]
    names = db.session.scalars(select(ParticipantRecord.name).where(ParticipantRecord.event_id == event.id))
    assert set(names) == {privacy.ERASED_NAME}
    assert kept.email == "bruno@example.org"  # a webinar still inside the period is untouched


def test_the_worker_runs_the_purge(app, frozen_clock):
    app.config["RETENTION_DAYS"] = 1
    event = make_event(starts_in=timedelta(days=1))
    person = _register(event, "ana@example.org", "Ana Pérez")
    frozen_clock.advance(days=4)
    privacy._last_purge = None  # the purge runs at most once an hour per process
    worker.deliver_due()
    db.session.expire_all()
    assert person.erased_at is not None


def test_pages_a_manage_link_opens_stay_out_of_caches_referers_and_search_engines(client, app):
    registration = _register(make_event(), "ana@example.org", "Ana Pérez")
    for path in (f"/r/{registration.token}", f"/r/{registration.token}/data.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["X-Robots-Tag"] == "noindex", path
