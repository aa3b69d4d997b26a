"""Duplicate a webinar: "make #17 from #16" copies everything but the time, registrations and recording."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_event, make_user
from tests.helpers import submit
from webinars import clock
from webinars.extensions import db
from webinars.models import Event
from webinars.questions import service as questions
from webinars.questions.service import QuestionData
from webinars.registrations import service as registrations
from webinars.series import service as series_service


def test_make_17_from_16(auth, client, app):
    owner = make_user()
    series = series_service.create_series(owner, series_service.SeriesData(title="Smart Specialisation"))
    source = make_event(
        owner, series_id=series.id, capacity=80, approval_required=True, tags=["SDG 9"], reminder_offsets="60"
    )
    questions.add_question(
        source, QuestionData(kind="country", label="Country", label_es="País", required=True)
    )
    registrations.register(source, name="Ana", email="ana@example.org", consent=True)
    # Written directly: a recording is refused before the start, and #16 here is still upcoming.
    source.recording_url = "https://video.example.org/16"
    source.recording_summary = "Slides inside."
    db.session.commit()

    auth.login(owner)
    page = client.get(f"/manage/webinars/new?from={source.id}").get_data(as_text=True)
    assert "A copy of" in page
    assert source.title in page
    assert 'value="80"' in page

    form = {
        "copy_from": str(source.id),
        "title": source.title.replace("#16", "#17"),
        "summary": source.summary,
        "description": source.description_md,
        "start_date": (clock.now() + timedelta(days=40)).strftime("%Y-%m-%d"),
        "start_time": "15:00",
        "timezone": source.timezone,
        "duration": str(source.duration_minutes),
        "join_url": source.join_url,
        "capacity": "80",
        "approval_required": "y",
        "series": str(series.id),
        "tags": "SDG 9",
        "reminders": "60",
        "speakers-0-name": "Ane Etxeberria",
        "speakers-0-affiliation": "Orkestra, Basque Country",
    }
    url = f"/manage/webinars/new?from={source.id}"
    assert submit(client, "/manage/webinars/new", form, form_page=url).status_code == 302
    copy = db.session.scalars(select(Event).where(Event.id != source.id)).one()
    assert copy.status == "draft"
    assert copy.number == source.number + 1
    assert copy.capacity == 80
    assert copy.approval_required
    assert copy.series_id == series.id
    assert [tag.name for tag in copy.tags] == ["SDG 9"]
    assert [(q.label, q.label_es, q.required) for q in copy.active_questions] == [("Country", "País", True)]
    assert copy.recording_url == ""
    assert copy.seats_taken == 0
    assert copy.ical_uid != source.ical_uid
    assert copy.starts_at != source.starts_at


def test_someone_elses_webinar_cannot_be_duplicated(auth, client, app):
    auth.login(make_user())
    other = make_event()
    assert client.get(f"/manage/webinars/new?from={other.id}").status_code == 404
    assert client.get("/manage/webinars/new?from=99999999999999999999").status_code == 200


def test_organizer_tool_pages_are_private_to_the_webinars_owners(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    auth.login(make_user())
    for page in ("questions/", "attendance/", "registrations"):
        assert client.get(f"/manage/webinars/{event.id}/{page}").status_code == 404


def test_hostile_ids_in_organizer_tool_paths_are_404(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    huge = "99999999999999999999"
    base = f"/manage/webinars/{event.id}"
    assert client.get(f"{base}/questions/{huge}/edit").status_code == 404
    for path in (
        f"{base}/questions/{huge}/remove",
        f"{base}/attendance/records/{huge}",
        f"{base}/registrations/{huge}/erase",
    ):
        assert submit(client, path, {}, form_page=f"{base}/registrations").status_code == 404
    page = f"{base}/registrations"
    response = submit(
        client, f"{page}/decide", {"registration": [huge, "x"], "decision": "approve"}, form_page=page
    )
    assert response.status_code == 302
