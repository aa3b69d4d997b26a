"""Archive entries: past webinars recorded one by one or imported from CSV/XLSX after a preview."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.factories import make_event, make_series, make_user
from tests.helpers import submit
from webinars.calendar import feeds
from webinars.events import archive_entries
from webinars.events.service import RuleError
from webinars.extensions import db
from webinars.models import Event, EventKind, OutboxMessage, Registration

IMPORT = "/manage/archive/import"
HEADER = "title,date,time,timezone,number,speakers,recording_url,topics,registrations,attendance\n"
GOOD_ROWS = (
    'Smart specialisation 101,2019-03-12,16:00,America/Santiago,1,"Ane Etxeberria, Orkestra, Basque Country",'
    'https://video.example.org/1,"SDG 9 Industry, innovation and infrastructure",120,80\n'
    "Green hydrogen,2020-06-02,10:00,Europe/Madrid,2,Camila Rojas; Jon Aguirre,https://video.example.org/2,"
    "SDG 13 Climate action; SDG 7 Affordable and clean energy,,\n"
    "Water governance,2021-11-30,,,3,,https://video.example.org/3,,,\n"
)


def entries() -> list[Event]:
    return list(
        db.session.scalars(select(Event).where(Event.kind == EventKind.ARCHIVE).order_by(Event.number))
    )


def upload(client, content: bytes, filename: str = "archive.csv", series_id: int = 0):
    return submit(
        client,
        IMPORT,
        {"file": (io.BytesIO(content), filename), "series": str(series_id), "preview": "1"},
        content_type="multipart/form-data",
    )


def confirm(client, page: str, series_id: int = 0):
    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', page)
    assert rows, "the preview carries the rows to the confirmation"
    import html

    return submit(
        client, IMPORT, {"rows": html.unescape(rows.group(1)), "series": str(series_id), "confirm": "1"}
    )


@pytest.fixture
def organizer(client, auth):
    user = make_user()
    auth.login(user)
    return user


def test_csv_import_previews_then_saves_entries_shown_in_order_on_archive_series_and_feeds(client, organizer):
    series = make_series(organizer, title="LA Webinar")
    preview = upload(client, (HEADER + GOOD_ROWS).encode(), series_id=series.id)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "3 webinars are ready to import." in page
    assert entries() == []  # nothing saved before the confirmation

    done = confirm(client, page, series.id)
    assert done.status_code == 302
    saved = entries()
    assert [(e.number, e.title) for e in saved] == [
        (1, "Smart specialisation 101"),
        (2, "Green hydrogen"),
        (3, "Water governance"),
    ]
    first = saved[0]
    assert first.starts_at == datetime(2019, 3, 12, 19, 0, tzinfo=UTC)  # 16:00 in Santiago (UTC-3)
    assert [(s.name, s.affiliation) for s in first.speakers] == [
        ("Ane Etxeberria", "Orkestra, Basque Country")
    ]
    assert [t.name for t in first.tags] == ["SDG 9 Industry, innovation and infrastructure"]
    assert (first.registrations_reported, first.attendance_reported) == (120, 80)
    assert [s.name for s in saved[1].speakers] == ["Camila Rojas", "Jon Aguirre"]
    assert saved[2].timezone == "UTC"
    assert saved[2].starts_at == datetime(2021, 11, 30, tzinfo=UTC)
    # No registration, no mail.
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(Registration.id))) == 0

    archive = client.get("/past").get_data(as_text=True)
    assert (
        archive.index("Water governance")
        < archive.index("Green hydrogen")
        < archive.index("Smart specialisation 101")
    )
    series_page = client.get(f"/series/{series.slug}").get_data(as_text=True)
    assert series_page.index("Water governance") < series_page.index("Smart specialisation 101")
    assert "Webinar #3" in series_page
    series_feed = client.get(f"/series/{series.slug}/calendar.ics").get_data(as_text=True)
    assert series_feed.index("Smart specialisation 101") < series_feed.index("Green hydrogen")
    assert "Water governance" in series_feed  # years old, yet in the programme's calendar
    assert "Water governance" not in client.get("/calendar.ics").get_data(as_text=True)  # the site's window
    atom = client.get("/feeds/webinars.atom").get_data(as_text=True)
    assert (
        atom.index("Water governance") < atom.index("Green hydrogen") < atom.index("Smart specialisation 101")
    )

    detail = client.get(f"/webinars/{first.slug}").get_data(as_text=True)
    assert "Watch the recording" in detail
    assert "https://video.example.org/1" in detail
    assert "120 people registered · 80 attended" in detail
    assert 'name="email"' not in detail  # no registration form


def test_row_errors_are_listed_and_nothing_is_saved(client, organizer):
    series = make_series(organizer)
    make_event(organizer, series_id=series.id, number=2)
    rows = (
        HEADER
        + "Fine,2019-01-01,,,1,,,,,\n"
        + ",2019-01-02,,,,,,,,\n"  # no title
        + "Too early,1999-12-31,,,,,,,,\n"
        + "Not yet,2999-01-01,,,,,,,,\n"
        + "Taken,2019-01-03,,,2,,,,,\n"  # number 2 belongs to an upcoming webinar
        + "Twice,2019-01-04,,,1,,,,,\n"  # number 1 already in this file
        + "Bad zone,2019-01-05,,Mars/Olympus,,,,,,\n"
        + "Bad link,2019-01-06,,,,,javascript:alert(1),,,\n"
        + "Bad figures,2019-01-07,,,,,,,10,20\n"
        + "Bad date,12/03/2019,,,,,,,,\n"
        + "Bad time,2019-01-08,25:99,,,,,,,\n"
        + "Two faults,2999-01-09,,,,,ftp://video.example.org/9,,,\n"
    )
    response = upload(client, rows.encode(), series_id=series.id)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Some rows have errors" in page
    assert "Import these webinars" not in page
    two_faults = re.search(r"<td>Two faults</td>.*?</tr>", page, re.S).group(0)
    assert "https:// or http://" in two_faults  # the field's error...
    assert "has ended" in two_faults  # ...and the rule's, in one preview
    for expected in (
        "This field is required",
        "on or after 1 January 2000",
        "has ended",
        "already used in this series",
        "appears twice in this file",
        "Choose a time zone",
        "https:// or http://",
        "More people attended than registered",
        "YYYY-MM-DD",
        "Not a valid time value",
    ):
        assert expected in page, expected
    assert entries() == []


def test_xlsx_import_reads_dates_times_and_numbers_from_cells(client, organizer):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Title", "Date", "Time", "Time zone", "Number", "Speakers", "Recording URL", "Tags"])
    sheet.append(
        [
            "Webinar on regional policy",
            datetime(2018, 5, 17),
            datetime(1900, 1, 1, 15, 30).time(),
            "Europe/Madrid",
            7,
            "Ane Etxeberria, Orkestra",
            "https://video.example.org/7",
            "SDG 11 Sustainable cities; SDG 9 Industry, innovation and infrastructure",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    series = make_series(organizer)
    page = upload(client, buffer.getvalue(), "archive.xlsx", series.id).get_data(as_text=True)
    assert "1 webinar is ready to import." in page
    assert confirm(client, page, series.id).status_code == 302
    (entry,) = entries()
    assert entry.starts_at == datetime(2018, 5, 17, 13, 30, tzinfo=UTC)  # 15:30 in Madrid (UTC+2)
    assert entry.number == 7
    assert entry.series_id == series.id
    assert [t.name for t in entry.topics] == [
        "SDG 9 Industry, innovation and infrastructure",
        "SDG 11 Sustainable cities",
    ]


def test_cells_as_spreadsheets_commonly_hold_them(client, organizer):
    rows = (
        "Title,Date,Number,Speakers\n"
        '"Webinar #4: Ports",2019-05-06 17:30,#4,"Ane Etxeberria (Orkestra, Basque Country); Jon Aguirre"\n'
    )
    page = upload(client, rows.encode()).get_data(as_text=True)
    assert "1 webinar is ready to import." in page
    assert confirm(client, page).status_code == 302
    (entry,) = entries()
    assert entry.starts_at == datetime(2019, 5, 6, 17, 30, tzinfo=UTC)
    assert entry.number is None  # no series chosen: a number needs one
    assert [(s.name, s.affiliation) for s in entry.speakers] == [
        ("Ane Etxeberria", "Orkestra, Basque Country"),
        ("Jon Aguirre", ""),
    ]


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


HOSTILE_FILES = {
    "binary noise": (bytes(range(256)) * 20, "archive.csv", "not UTF-8"),
    "NUL bytes": (b"title,date\nA\x00B,2019-01-01\n", "archive.csv", "not a CSV file"),
    "no header": (b"2019-01-01,Something\n", "archive.csv", "missing: title"),
    "empty": (b"", "archive.csv", "The file is empty"),
    "only a header": (b"title,date\n", "archive.csv", "no webinars below"),
    "a zip that is no workbook": (_zip_bytes({"evil.txt": b"x" * 1000}), "archive.xlsx", "not an Excel"),
    "a truncated workbook": (b"PK\x03\x04garbage", "archive.xlsx", "not an Excel"),
    "too many rows": (
        ("title,date\n" + "A,2019-01-01\n" * (archive_entries.MAX_IMPORT_ROWS + 1)).encode(),
        "archive.csv",
        "At most 200 webinars",
    ),
    "too large": (
        b"title,date\n" + b"A" * (archive_entries.MAX_IMPORT_BYTES + 10),
        "archive.csv",
        "larger than 2 MB",
    ),
    "an enormous field": (
        b'title,date\n"' + b"A" * 200_000 + b'",2019-01-01\n',
        "archive.csv",
        "cannot be read",
    ),
    "a wrong extension": (b"title,date\n", "archive.exe", "Choose a .csv or .xlsx file"),
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_hostile_files_get_a_clear_error_and_save_nothing(client, organizer, name):
    content, filename, message = HOSTILE_FILES[name]
    response = upload(client, content, filename)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert entries() == []


def test_hostile_cells_are_refused_row_by_row(client, organizer):
    rows = (
        "title,date,recording_url,speakers,topics\n"
        + "Line\x0bbreak,2019-01-01,,,\n"
        + "Script,2019-01-02,data:text/html;base64,PHNjcmlwdD4=,,\n"
        + f"Long,2019-01-03,,,{'x' * 200}\n"
        + f"{'T' * 300},2019-01-04,,,\n"
        + f"Name,2019-01-05,,{'N' * 150},\n"
        + '=HYPERLINK("https://evil.example"),2019-01-06,,,\n'
    )
    page = upload(client, rows.encode()).get_data(as_text=True)
    assert page.count('class="has-error"') == 5
    assert "control characters" in page
    assert "at most 80 characters" in page
    assert "at most 120 characters" in page
    # A formula is only text here: it is saved as a title, shown escaped, never evaluated.
    assert "=HYPERLINK(&#34;https://evil.example&#34;)" in page or "=HYPERLINK(&quot;" in page


def test_a_tampered_confirmation_is_checked_again(client, organizer):
    for rows in ("not json", json.dumps({"title": "x"}), json.dumps([{"evil": "x"}]), json.dumps([])):
        response = submit(client, IMPORT, {"rows": rows, "confirm": "1"})
        assert response.status_code == 200
        assert "upload the file again" in response.get_data(as_text=True)
    sneaky = json.dumps([{"title": "From the future", "date": "2999-01-01"}])
    response = submit(client, IMPORT, {"rows": sneaky, "confirm": "1"})
    assert response.status_code == 200
    assert "has ended" in response.get_data(as_text=True)
    assert entries() == []


def test_one_entry_from_the_form_with_errors_next_to_the_fields(client, organizer):
    url = "/manage/archive/new"
    data = {
        "title": "Webinar #15: Circular economy",
        "date": "2026-12-31",
        "time": "16:00",
        "timezone": "America/Santiago",
        "duration": "90",
        "speakers": "Camila Rojas, Universidad de Chile\nAne Etxeberria",
        "recording_url": "https://video.example.org/15",
        "summary": "Circular economy in Latin America.",
        "tags": "SDG 12 Responsible consumption and production",
        "registrations": "50",
        "attendance": "30",
    }
    refused = submit(client, url, data)
    assert refused.status_code == 200
    assert re.search(r'id="date-error">[^<]*has ended', refused.get_data(as_text=True))
    data["date"] = "2015-04-21"
    created = submit(client, url, data)
    assert created.status_code == 302
    (entry,) = entries()
    assert entry.is_published
    assert entry.is_archive_entry
    assert not entry.registration_open()
    assert entry.reminder_minutes == []
    assert entry.join_url == ""
    assert [s.name for s in entry.speakers] == ["Camila Rojas", "Ane Etxeberria"]

    # The manage page edits it through the archive form; the webinar form is not offered.
    edit = client.get(f"/manage/webinars/{entry.id}/edit")
    assert edit.status_code == 302
    assert edit.headers["Location"].endswith(f"/manage/archive/{entry.id}/edit")
    form = client.get(f"/manage/archive/{entry.id}/edit").get_data(as_text=True)
    assert "Camila Rojas, Universidad de Chile" in form
    data["title"] = "Webinar #15: Circular economy in practice"
    assert submit(client, f"/manage/archive/{entry.id}/edit", data).status_code == 302
    db.session.expire_all()
    assert entry.title == "Webinar #15: Circular economy in practice"


def test_archive_entries_are_private_to_their_organizers(client, app, auth):
    owner, other = make_user(), make_user()
    entry = archive_entries.create_entry(
        owner,
        archive_entries.ArchiveEntryData(
            title="Old", starts_at=datetime(2010, 1, 1, tzinfo=UTC), timezone="UTC"
        ),
    )
    auth.login(other)
    assert client.get(f"/manage/archive/{entry.id}/edit").status_code == 404
    series = make_series(owner)
    with pytest.raises(RuleError) as refused:
        archive_entries.create_entry(
            other,
            archive_entries.ArchiveEntryData(
                title="Old", starts_at=datetime(2010, 1, 1, tzinfo=UTC), timezone="UTC", series_id=series.id
            ),
        )
    assert "series" in refused.value.errors


def test_archive_entries_within_the_feed_window_are_in_the_calendar_feed(client, app, frozen_clock):
    owner = make_user()
    frozen_clock.set(datetime(2024, 6, 1, tzinfo=UTC))
    for day in (20, 10):
        archive_entries.create_entry(
            owner,
            archive_entries.ArchiveEntryData(
                title=f"May {day}", starts_at=datetime(2024, 5, day, 15, tzinfo=UTC), timezone="UTC"
            ),
        )
    feeds.clear_cache()
    body = client.get("/calendar.ics").get_data(as_text=True)
    assert body.index("May 10") < body.index("May 20")


def test_the_command_line_import_checks_every_row_then_saves_all_or_nothing(app, tmp_path):
    owner = make_user()
    series = make_series(owner, title="LA Webinar")
    runner = app.test_cli_runner()
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + GOOD_ROWS + "Not yet,2999-01-01,,,,,,,,\n", encoding="utf-8")
    refused = runner.invoke(args=["archive", "import", str(broken), "--owner", owner.email])
    assert refused.exit_code != 0
    assert "Row 5: Date:" in refused.output
    assert entries() == []

    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    args = ["archive", "import", str(good), "--owner", owner.email.upper(), "--series", series.slug]
    checked = runner.invoke(args=[*args, "--dry-run"])
    assert "3 rows are ready to import." in checked.output
    assert entries() == []
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    assert [e.number for e in entries()] == [1, 2, 3]
    unknown = runner.invoke(args=["archive", "import", str(good), "--owner", "nobody@example.org"])
    assert "No organizer account" in unknown.output
