"""In a real browser: an organizer uploads a cover through the webinar form; a visitor sees it, reads
the time in their own zone first, and the register button takes them to the form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests import images
from tests.factories import PASSWORD, make_user
from webinars import clock
from webinars.extensions import db


@pytest.mark.browser
def test_cover_upload_and_the_webinar_page(
    live_server: str, live_app: Flask, browser_page: Page, tmp_path
) -> None:
    page = browser_page
    with live_app.app_context():
        owner_email = make_user(email="ada@example.org").email
        db.session.remove()
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(images.jpeg(1600, 900, with_location=True))
    svg = tmp_path / "cover.svg"
    svg.write_bytes(images.SVG_WITH_SCRIPT)
    start = (clock.now() + timedelta(days=30)).strftime("%Y-%m-%d")

    page.goto(live_server + "/login")
    page.get_by_label("Email", exact=True).fill(owner_email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/manage/webinars/new")
    page.get_by_label("Title", exact=True).fill("Webinar #18: Regions and Oceans")
    page.get_by_label("Start date", exact=True).fill(start)
    page.get_by_label("Start time", exact=True).fill("16:00")
    page.get_by_label("Time zone", exact=True).fill("America/Santiago")
    page.get_by_label("Capacity", exact=True).fill("25")
    page.get_by_label("Speaker name").first.fill("Camila Rojas")

    # A hostile file first: the message sits next to the field and nothing breaks.
    page.get_by_label("Cover image", exact=True).set_input_files(str(svg))
    page.get_by_label("Cover description (alt text)").fill("A coastline seen from above")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#cover-error")).to_contain_text("SVG")

    page.get_by_label("Cover image", exact=True).set_input_files(str(cover))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Draft saved")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("button", name="Sign out").click()

    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Webinar #18: Regions and Oceans").first.click()
    picture = page.get_by_role("img", name="A coastline seen from above")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") > 0
    assert picture.evaluate("img => img.currentSrc").endswith(".webp")

    # The visitor (a browser in Madrid) reads their own time first, then the webinar's, then UTC.
    when = page.locator(".when")
    expect(when.locator(".when-local")).to_contain_text(re.compile(r"Your time: .*\(Madrid, UTC\+01:00\)"))
    expect(when).to_contain_text("(Santiago, UTC−03:00)")
    lines = when.locator("p:visible").all_inner_texts()
    assert lines[0].startswith("Your time:")
    assert "(UTC)" in lines[2]

    register = page.get_by_role("link", name="Register")
    expect(page.get_by_text("25 seats left")).to_be_visible()
    register.click()
    expect(page).to_have_url(re.compile(r"#register$"))
    expect(page.get_by_label("Name", exact=True)).to_be_in_viewport()
