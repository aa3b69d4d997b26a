"""One walk through the site in a real browser, as its people would do it.

The first administrator sets the site up, creates a one-seat webinar (after a failed attempt), and
publishes it; two visitors register, the second lands on the waitlist; the first cancels through the
private link from their email, and the second is promoted. Someone signing up again with the first
visitor's address changes nothing; she registers again herself from her own link.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webinars.extensions import db
from webinars.mail import worker
from webinars.models import OutboxMessage, Registration

TITLE = "Smart Specialisation in Practice"
JOIN_URL = "https://meet.example.org/room-42"
EVENT_ZONE = "America/Santiago"
BROWSER_ZONE = "Europe/Madrid"  # the browser context's zone (see conftest.browser_page)
START_TIME = time(16, 0)


def clock_time(moment: datetime) -> re.Pattern[str]:
    """``moment``'s time of day on a 24-hour clock (20:00) or a 12-hour one (08:00 PM, 8:00 PM)."""
    twelve = f"0?{int(moment.strftime('%I'))}:{moment:%M}\\s?{moment:%p}"
    return re.compile(rf"\b({moment:%H:%M}|{twelve})\b")


def manage_link(app: Flask, base_url: str, recipient: str, kind: str) -> str:
    """The private manage link from the latest email of ``kind`` sent to ``recipient``."""
    with app.app_context():
        worker.deliver_due()  # the mail worker writes the emails (into the instance's mail folder)
        message = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
        ).first()
        assert message is not None, f"no {kind} email to {recipient}"
        body = message.body_text
        db.session.remove()
    match = re.search(re.escape(base_url) + r"/r/[A-Za-z0-9_-]+", body)
    assert match, f"no manage link in the {kind} email:\n{body}"
    return match.group(0)


def set_up_administrator(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_role("link", name="Organizer sign-in").click()
    expect(page).to_have_url(base_url + "/setup")
    page.get_by_label("Name", exact=True).fill("Ada Organizer")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_role("heading", name="All webinars")).to_be_visible()


def create_and_publish_webinar(page: Page, day: date) -> None:
    page.get_by_role("link", name="New webinar").click()
    expect(page.get_by_role("heading", name="New webinar")).to_be_visible()
    title = page.get_by_label("Title", exact=True)
    zone = page.get_by_label("Time zone", exact=True)

    # First attempt: no title and a zone that does not exist. Both are flagged next to their fields.
    title.fill("")
    page.get_by_label("Summary", exact=True).fill("Regional innovation policy, from Bilbao to Santiago.")
    page.get_by_label("Start date", exact=True).fill(day.isoformat())
    page.get_by_label("Start time", exact=True).fill(START_TIME.strftime("%H:%M"))
    zone.fill("Mars/Olympus")
    page.get_by_label("Duration (minutes)", exact=True).fill("60")
    page.get_by_label("Join link", exact=True).fill(JOIN_URL)
    page.get_by_label("Capacity", exact=True).fill("1")
    page.get_by_label("Speaker name", exact=True).first.fill("Ane Etxeberria")
    page.get_by_label("Affiliation", exact=True).first.fill("Orkestra, Basque Country")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description(re.compile("This field is required"))
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(zone).to_have_accessible_description(re.compile("Choose a time zone"))
    expect(page.locator("#timezone-error")).to_contain_text("Choose a time zone from the list")
    # What was typed is kept.
    expect(page.get_by_label("Join link", exact=True)).to_have_value(JOIN_URL)
    expect(page.get_by_label("Start date", exact=True)).to_have_value(day.isoformat())
    expect(page.get_by_label("Speaker name", exact=True).first).to_have_value("Ane Etxeberria")

    # Second attempt: corrected.
    title.fill(TITLE)
    zone.fill(EVENT_ZONE)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Draft saved")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published")
    expect(page.get_by_role("link", name="Public page")).to_be_visible()


def register(page: Page, name: str, email: str, button: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("I agree to receive emails about this webinar").check()
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


@pytest.mark.browser
def test_organizer_publishes_and_attendees_register_cancel_and_get_promoted(
    live_server: str, live_app: Flask, browser_page: Page
) -> None:
    page = browser_page
    day = date.today() + timedelta(days=10)
    starts = datetime.combine(day, START_TIME, tzinfo=ZoneInfo(EVENT_ZONE))
    in_browser_zone = starts.astimezone(ZoneInfo(BROWSER_ZONE))  # 20:00 in December

    # 1-2. The organizer sets the site up and publishes a one-seat webinar.
    set_up_administrator(page, live_server)
    create_and_publish_webinar(page, day)

    # 3. Signed out, the public page shows the webinar, in the visitor's zone too, without the join link.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Organizer sign-in")).to_be_visible()
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    public_url = page.url
    local_time = page.get_by_text("Your time:")
    expect(local_time).to_be_visible()
    expect(local_time).to_contain_text(clock_time(in_browser_zone))
    expect(page.get_by_text("meet.example.org")).to_have_count(0)
    assert "room-42" not in page.content()

    # 4. The first visitor takes the only seat; the second one is offered the waitlist.
    register(page, "Camila Rojas", "camila@example.org", "Register")
    page.goto(public_url)
    expect(page.get_by_text("All seats are taken. Register to join the waitlist")).to_be_visible()
    register(page, "Jon Aguirre", "jon@example.org", "Join the waitlist")

    # The browser told the server its zone: the email shows the time there as well.
    with live_app.app_context():
        worker.deliver_due()
        confirmation = db.session.scalars(
            select(OutboxMessage.body_text).where(OutboxMessage.recipient == "camila@example.org")
        ).one()
        db.session.remove()
    # The attendee's own zone (from the browser) comes first, by its friendly name.
    assert "Your time: " in confirmation
    assert f"{in_browser_zone:%H:%M} (Madrid, UTC+01:00)" in confirmation
    assert confirmation.index("Your time:") < confirmation.index("Webinar's time zone:")

    # 5. The first visitor opens the link from their email, sees the join link, and cancels.
    page.goto(manage_link(live_app, live_server, "camila@example.org", "registration_confirmed"))
    expect(page.get_by_text("Confirmed", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=JOIN_URL)).to_be_visible()
    page.get_by_role("button", name="Cancel my registration").click()
    expect(page.get_by_role("status")).to_contain_text("Your registration is cancelled")
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=JOIN_URL)).to_have_count(0)

    # 6. The seat went to the second visitor, who was emailed the invitation.
    page.goto(manage_link(live_app, live_server, "jon@example.org", "promoted"))
    expect(page.get_by_text("Confirmed", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=JOIN_URL)).to_be_visible()

    # 7. Someone signs up again with the first visitor's address: the same answer as any sign-up, and
    # her cancelled registration stays as it was. From her own link she registers again herself
    # (on the waitlist: the seat is taken).
    page.goto(public_url)
    register(page, "Someone Else", "camila@example.org", "Join the waitlist")
    page.goto(manage_link(live_app, live_server, "camila@example.org", "registration_cancelled"))
    expect(page.get_by_text("You cancelled this registration.")).to_be_visible()
    page.get_by_role("button", name="Register again").click()
    expect(page.get_by_role("status")).to_contain_text("You are on the waitlist again")
    expect(page.get_by_text("Waitlisted", exact=True)).to_be_visible()
    with live_app.app_context():
        names = set(db.session.scalars(select(Registration.name)))
        db.session.remove()
    assert names == {"Camila Rojas", "Jon Aguirre"}
