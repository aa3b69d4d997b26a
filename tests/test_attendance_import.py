"""Attendance from participant reports: the layouts of Zoom, Teams and Meet, matching, hostile uploads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import make_event, make_user
from tests.helpers import csrf_token
from webinars.attendance import service
from webinars.attendance.parsers import ReportError, duration_seconds, parse
from webinars.extensions import db
from webinars.models import ParticipantRecord, Registration
from webinars.registrations import service as registrations

SAMPLES = Path(__file__).parent / "data" / "attendance"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def minutes_by_name(report) -> dict[str, int]:
    return {participant.name: participant.minutes for participant in report.participants}


def test_zoom_rejoins_are_summed_and_the_meeting_block_is_skipped():
    report = parse(sample("zoom_participants.csv"))
    assert report.source == "zoom"
    assert minutes_by_name(report) == {
        "Programme Host": 93,
        "Ana Pérez": 56,
        "Bruno Silva (Bruno's iPhone)": 40,
        "Zoom Guest": 12,
        "Rojas, Diego": 3,
    }
    ana = next(p for p in report.participants if p.email == "ana@example.org")
    assert ana.rows == 2


def test_teams_utf16_totals_are_read_once():
    data = sample("teams_attendance.csv")
    assert data.startswith(b"\xff\xfe")  # as Teams writes it
    report = parse(data)
    assert report.source == "teams"
    assert minutes_by_name(report) == {
        "Programme Host": 90,
        "Carmen López": 62,
        "Ana Pérez": 8,
        "Visitante Externo": 0,
    }


def test_teams_older_join_and_leave_events():
    report = parse(sample("teams_legacy_attendance.csv"))
    assert minutes_by_name(report) == {"Carmen López": 62, "Bruno Silva": 20}


def test_meet_first_and_last_names_and_durations():
    report = parse(sample("meet_attendance.csv"))
    assert report.source == "meet"
    assert minutes_by_name(report) == {"Ana Pérez": 62, "Bruno Silva": 45, "Desconocido Alguien": 9}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("42", 42 * 60), ("1h 2m 3s", 3723), ("1 hr 5 min", 3900), ("01:02:03", 3723), ("45s", 45), ("--", 0)],
)
def test_durations(text, seconds):
    assert duration_seconds(text, minutes=text == "42") == seconds


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("Name,Duración\nAna,5\n".encode("latin-1"), "encoding"),
        (b"just,some,numbers\n1,2,3\n", "layout"),
        (b"Name,Duration\nAna,soon\n", "duration"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(data, code):
    with pytest.raises(ReportError) as raised:
        parse(data)
    assert raised.value.code == code


def _seed(event) -> dict[str, Registration]:
    people = {
        "ana": ("Ana Pérez", "ana@example.org"),
        "bruno": ("Bruno Silva", "bruno@example.org"),
        "carmen": ("Carmen López", "carmen@example.org"),
        "diego": ("Diego Rojas", "diego@example.org"),
        "elena": ("Elena Gómez", "elena@example.org"),
    }
    return {
        key: registrations.register(event, name=name, email=email, consent=True).registration
        for key, (name, email) in people.items()
    }


def test_zoom_and_teams_imports_mark_attendance(app):
    event = make_event()
    people = _seed(event)
    result = service.import_report(event, parse(sample("zoom_participants.csv")), minimum_minutes=10)
    assert (result.participants, result.matched, result.unmatched) == (5, 3, 2)
    db.session.expire_all()
    assert people["ana"].attended
    assert people["ana"].attended_minutes == 56
    assert people["bruno"].attended
    assert people["bruno"].attended_minutes == 40  # matched by name
    assert people["diego"].attended is False
    assert people["diego"].attended_minutes == 3
    assert people["elena"].attended is False
    assert people["elena"].attended_minutes == 0

    service.import_report(event, parse(sample("teams_attendance.csv")), minimum_minutes=10)
    db.session.expire_all()
    assert people["carmen"].attended
    assert people["carmen"].attended_minutes == 62  # email, any case
    assert people["ana"].attended_minutes == 64  # Zoom and the Teams overflow room together

    # The same Zoom report again replaces the first import rather than counting twice.
    service.import_report(event, parse(sample("zoom_participants.csv")), minimum_minutes=10)
    db.session.expire_all()
    assert people["ana"].attended_minutes == 64

    guest = db.session.scalars(select(ParticipantRecord).where(ParticipantRecord.name == "Zoom Guest")).one()
    service.assign(event, guest, people["elena"])
    db.session.expire_all()
    assert people["elena"].attended
    assert people["elena"].attended_minutes == 12


def test_upload_page_imports_lists_unmatched_and_fixes_a_match(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    people = _seed(event)
    auth.login(owner)
    page = f"/manage/webinars/{event.id}/attendance/"
    token = csrf_token(client, page)
    response = client.post(
        page,
        data={
            "csrf_token": token,
            "minimum_minutes": "30",
            "report": (io.BytesIO(sample("teams_attendance.csv")), "attendance.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported 4 participants: 2 matched, 2 not matched." in body
    assert "Visitante Externo" in body
    assert "Programme Host" in body
    db.session.expire_all()
    assert people["carmen"].attended
    assert people["ana"].attended is False  # 8 minutes < 30

    record = db.session.scalars(
        select(ParticipantRecord).where(ParticipantRecord.name == "Visitante Externo")
    ).one()
    response = client.post(
        f"/manage/webinars/{event.id}/attendance/records/{record.id}",
        data={
            f"record-{record.id}-csrf_token": token,
            f"record-{record.id}-registration": people["elena"].id,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert record.registration_id == people["elena"].id


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary\x00garbage" * 50, "This is not a text file."),
        ("Nombre,Duración\nAna,5\n".encode("cp1252"), "not UTF-8 or UTF-16"),
        (b"a,b\n1,2\n", "No participant list found"),
        (b"", "The file is empty."),
    ],
)
def test_hostile_uploads_get_an_error_next_to_the_field(auth, client, app, content, message):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    page = f"/manage/webinars/{event.id}/attendance/"
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "minimum_minutes": "10",
            "report": (io.BytesIO(content), "report.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_too_large_uploads_are_refused(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    app.config["ATTENDANCE_UPLOAD_MAX_BYTES"] = 1024
    page = f"/manage/webinars/{event.id}/attendance/"
    big = b"Name,Duration (Minutes)\n" + b"Ana,5\n" * 1000
    response = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "minimum_minutes": "10",
            "report": (io.BytesIO(big), "r.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The file is larger than" in response.get_data(as_text=True)

    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = client.post(
        page, data={"report": (io.BytesIO(big * 2), "r.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
