"""In a real browser: an organizer imports past webinars from a file after a preview that shows the row
errors; a webinar goes from upcoming to live to past on the pages as the (injected) clock moves."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import make_event, make_registration
from tests.helpers import FrozenClock
from webinars.extensions import db

pytestmark = pytest.mark.browser

HEADER = "title,date,time,timezone,number,speakers,recording_url,topics\n"
FIRST = (
    "Smart specialisation 101,2019-03-12,16:00,America/Santiago,1,Ane Etxeberria,"
    "https://video.example.org/1,SDG 9\n"
)
SECOND = "Green hydrogen,2020-06-02,10:00,Europe/Madrid,2,Camila Rojas,https://video.example.org/2,SDG 13\n"
FROM_THE_FUTURE = (
    "Not yet held,2999-06-02,10:00,Europe/Madrid,2,Camila Rojas,https://video.example.org/2,SDG 13\n"
)


def set_up_administrator(page: Page, base_url: str) -> None:
    page.goto(base_url + "/setup")
    page.get_by_label("Name", exact=True).fill("Ada Organizer")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_role("heading", name="All webinars")).to_be_visible()


def test_archive_import_shows_row_errors_then_imports(
    browser_page: Page, live_server: str, tmp_path: Path
) -> None:
    page = browser_page
    set_up_administrator(page, live_server)
    page.get_by_role("link", name="Import past webinars").click()
    expect(page.get_by_role("heading", name="Import past webinars")).to_be_visible()

    broken = tmp_path / "archive.csv"
    broken.write_text(HEADER + FIRST + FROM_THE_FUTURE, encoding="utf-8")
    page.get_by_label("CSV or Excel file").set_input_files(broken)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text("Some rows have errors")
    table = page.get_by_role("table", name="Rows of the file")
    expect(table.get_by_role("row").filter(has_text="Not yet held")).to_contain_text("has ended")
    expect(page.get_by_role("button", name="Import these webinars")).to_have_count(0)

    fixed = tmp_path / "archive-fixed.csv"
    fixed.write_text(HEADER + FIRST + SECOND, encoding="utf-8")
    page.get_by_label("CSV or Excel file").set_input_files(fixed)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("status")).to_contain_text("2 webinars are ready to import.")
    page.get_by_role("button", name="Import these webinars").click()

    expect(page.get_by_role("heading", name="Past webinars", level=1)).to_be_visible()
    titles = page.get_by_role("heading", level=2).all_inner_texts()
    assert titles.index("Green hydrogen") < titles.index("Smart specialisation 101")
    page.get_by_role("link", name="Smart specialisation 101", exact=True).click()
    expect(page.get_by_role("link", name="Watch the recording")).to_have_attribute(
        "href", "https://video.example.org/1"
    )
    expect(page.get_by_role("heading", name="Register")).to_have_count(0)


def test_a_webinar_is_upcoming_then_live_then_past(
    browser_page: Page, live_app: Flask, live_server: str, frozen_clock: FrozenClock
) -> None:
    page = browser_page
    with live_app.app_context():
        event = make_event(title="Regional innovation policy")
        token = make_registration(event, "ane@example.org").token
        slug, starts_at, ends_at = event.slug, event.starts_at, event.ends_at
        db.session.remove()
    title = "Regional innovation policy"

    page.goto(live_server + "/")
    card = page.get_by_role("article").filter(has=page.get_by_role("link", name=title))
    expect(card).to_contain_text("Registration open")

    frozen_clock.set(starts_at)
    page.reload()
    expect(card).to_contain_text("Live now")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_text("This webinar is live now")).to_be_visible()
    expect(page.get_by_role("link", name="Join the webinar now")).to_have_count(0)
    page.goto(f"{live_server}/r/{token}")
    expect(page.get_by_role("link", name="Join the webinar now")).to_have_attribute(
        "href", "https://meet.example.org/secret-room-16"
    )

    frozen_clock.set(ends_at)
    page.goto(live_server + "/past")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    page.goto(live_server + "/")
    expect(page.get_by_role("link", name=title)).to_have_count(0)
    page.goto(f"{live_server}/webinars/{slug}")
    expect(page.get_by_text("This webinar has ended.")).to_be_visible()
