"""In a real browser: an organizer finds people in a long list by search and filter, then cancels
the ones ticked, and adds a person by hand without an email."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import PASSWORD, make_event, make_user
from webinars.extensions import db
from webinars.models import OutboxMessage, Registration
from webinars.registrations import service as registrations


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.browser
def test_search_then_cancel_the_ticked_people(live_server: str, live_app: Flask, browser_page: Page) -> None:
    page = browser_page
    with live_app.app_context():
        owner = make_user(email="ada@example.org", name="Ada Organizer")
        event = make_event(owner, capacity=60)
        for n in range(55):  # more than a page
            where = "example.cl" if n % 5 == 0 else "example.org"
            registrations.register(
                event, name=f"Person {n:02d}", email=f"person{n:02d}@{where}", consent=True
            )
        event_id = event.id
        db.session.remove()

    sign_in(page, live_server, "ada@example.org")
    page.goto(f"{live_server}/manage/webinars/{event_id}/registrations")
    expect(page.get_by_text("55 people match.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Page 1 of 2")

    page.get_by_role("searchbox", name="Search by name, email or organisation").fill("example.cl")
    page.get_by_label("Sort by").select_option(label="Name")
    page.get_by_label("Order").select_option(label="Descending")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("11 people match.")).to_be_visible()
    rows = page.get_by_role("row").filter(has_text="@example.cl")
    expect(rows).to_have_count(11)
    expect(rows.first).to_contain_text("Person 50")

    page.get_by_label("Select Person 50").check()
    page.get_by_label("Select Person 45").check()
    page.get_by_role("button", name="Cancel selected").click()
    expect(page.get_by_role("status")).to_contain_text("2 registrations cancelled.")
    # The list keeps the search it was showing.
    expect(page.get_by_role("searchbox", name="Search by name, email or organisation")).to_have_value(
        "example.cl"
    )
    expect(page.get_by_role("row").filter(has_text="person50@example.cl")).to_contain_text("Cancelled")

    page.get_by_text("Add a person").click()
    page.get_by_label("Name", exact=True).fill("Camila Rojas")
    page.get_by_label("Email", exact=True).fill("camila@example.org")
    page.get_by_label("Send them the invitation email").uncheck()
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("status")).to_contain_text("Camila Rojas has a seat.")
    expect(page.get_by_role("row").filter(has_text="camila@example.org")).to_contain_text("Confirmed")

    with live_app.app_context():
        cancelled = db.session.scalars(
            select(Registration.email).where(Registration.status == "cancelled").order_by(Registration.email)
        ).all()
        camila_mail = db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.recipient == "camila@example.org")
        ).all()
        db.session.remove()
    assert cancelled == ["person45@example.cl", "person50@example.cl"]
    assert camila_mail == []
