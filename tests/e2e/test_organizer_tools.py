"""In a real browser: an organizer asks registration questions and approves a request to attend.

The organizer adds two questions to a webinar in approval mode; a visitor's first try misses the
required answers and sees why next to each question, the second goes through as a request; the
organizer sees the answers in the list and approves, which sends the invitation.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import PASSWORD, make_event, make_user
from webinars.extensions import db
from webinars.models import OutboxMessage, Registration

TITLE = "Webinar #16: Smart Specialisation Strategies and Sustainability"


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def add_question(page: Page, kind: str, label: str, choices: str = "", required: bool = False) -> None:
    page.get_by_label("Kind of question").select_option(label=kind)
    page.get_by_label("Question", exact=True).fill(label)
    if choices:
        page.get_by_label("Choices, one per line").fill(choices)
    if required:
        page.get_by_label("An answer is required").check()
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("status")).to_contain_text("Question added.")


@pytest.mark.browser
def test_sign_up_with_questions_and_approval(live_server: str, live_app: Flask, browser_page: Page) -> None:
    page = browser_page
    with live_app.app_context():
        owner = make_user(email="ada@example.org", name="Ada Organizer")
        event = make_event(owner, capacity=10, approval_required=True)
        event_id, slug, owner_email = event.id, event.slug, owner.email
        db.session.remove()

    # The organizer adds the questions.
    sign_in(page, live_server, owner_email)
    page.goto(f"{live_server}/manage/webinars/{event_id}")
    page.get_by_role("link", name="Registration questions").click()
    add_question(page, "Single choice", "Your role", "Researcher\nPolicy maker\nOther", required=True)
    add_question(page, "Country", "Country", required=True)
    expect(page.get_by_role("cell", name="Your role", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # A visitor forgets the questions, sees why, then answers them.
    page.goto(f"{live_server}/webinars/{slug}")
    page.get_by_label("Name", exact=True).fill("Camila Rojas")
    page.get_by_label("Email", exact=True).fill("camila@example.org")
    page.get_by_label("I agree to receive emails about this webinar").check()
    page.get_by_role("button", name="Request to attend").click()
    country = page.get_by_label("Country", exact=True)
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(country).to_have_accessible_description(re.compile("This field is required"))
    role_group = page.get_by_role("group", name="Your role")
    expect(role_group).to_have_accessible_description(re.compile("This field is required"))

    page.get_by_label("Policy maker").check()
    country.select_option(label="Chile")
    page.get_by_label("I agree to receive emails about this webinar").check()
    page.get_by_role("button", name="Request to attend").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("The organizers review every request")).to_be_visible()

    # The organizer sees the answers and approves.
    sign_in(page, live_server, owner_email)
    page.goto(f"{live_server}/manage/webinars/{event_id}/registrations")
    row = page.get_by_role("row").filter(has_text="camila@example.org")
    expect(row).to_contain_text("Awaiting approval")
    expect(row).to_contain_text("Policy maker")
    expect(row).to_contain_text("Chile")
    page.get_by_role("button", name="Approve Camila Rojas").click()
    expect(page.get_by_role("status")).to_contain_text("1 person approved.")
    expect(page.get_by_role("row").filter(has_text="camila@example.org")).to_contain_text("Confirmed")

    # After the webinar: the Zoom participant report marks her attended (two joins, 25 + 20 minutes).
    page.goto(f"{live_server}/manage/webinars/{event_id}")
    page.get_by_role("link", name="Attendance").click()
    report = (
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n"
        "Camila Rojas,camila@example.org,11/25/2026 04:00:00 PM,11/25/2026 04:25:00 PM,25,Yes\r\n"
        "Camila Rojas,camila@example.org,11/25/2026 04:30:00 PM,11/25/2026 04:50:00 PM,20,Yes\r\n"
        "Someone Else,,11/25/2026 04:00:00 PM,11/25/2026 04:05:00 PM,5,Yes\r\n"
    )
    page.get_by_label("Participant report (CSV from Zoom, Microsoft Teams or Google Meet)").set_input_files(
        files=[{"name": "participants.csv", "mimeType": "text/csv", "buffer": report.encode()}]
    )
    page.get_by_label("Minimum minutes to count as attended").fill("30")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("2 participants: 1 matched, 1 not matched")
    expect(page.get_by_role("row").filter(has_text="Someone Else")).to_be_visible()

    with live_app.app_context():
        registration = db.session.scalars(select(Registration)).one()
        kinds = db.session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.registration_id == registration.id)
            .order_by(OutboxMessage.id)
        ).all()
        db.session.remove()
    assert registration.status == "confirmed"
    assert registration.attended is True
    assert registration.attended_minutes == 45
    assert kinds == ["registration_pending", "registration_confirmed"]
