"""In a real browser: a series owner invites a colleague by email; the colleague opens the link,
chooses a name and password, and then manages the series' webinars and their registrations."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import PASSWORD, make_event, make_registration, make_series, make_user
from webinars.extensions import db
from webinars.models import MailKind, OutboxMessage

LINK = re.compile(r"https?://\S+/invitations/\S+")


@pytest.mark.browser
def test_a_colleague_invited_by_email_manages_the_series_webinars(
    live_server: str, live_app: Flask, browser_page: Page
) -> None:
    page = browser_page
    with live_app.app_context():
        owner = make_user(email="ada@example.org", name="Ada Owner")
        series = make_series(owner, title="LA Webinar")
        event = make_event(owner, series_id=series.id, number=16, capacity=20)
        make_registration(event, "camila@example.org", name="Camila Rojas")
        event_id = event.id
        db.session.remove()

    page.goto(live_server + "/login")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/manage/series")
    page.get_by_role("link", name="Team LA Webinar").click()
    expect(page.get_by_role("heading", name="Team of “LA Webinar”")).to_be_visible()
    page.get_by_label("Email address").fill("bruno@example.org")
    page.get_by_label("Role", exact=True).select_option(value="editor")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to bruno@example.org.")
    expect(page.get_by_role("button", name="Revoke the invitation to bruno@example.org")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    with live_app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body_text).where(
                OutboxMessage.kind == MailKind.TEAM_INVITATION, OutboxMessage.recipient == "bruno@example.org"
            )
        )
        db.session.remove()
    link = LINK.search(body or "")
    assert link, body

    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Accept the invitation")).to_be_visible()
    page.get_by_label("Your name").fill("Bruno Colleague")
    page.get_by_label("Password", exact=True).fill("bruno's long password")
    page.get_by_label("Repeat the password").fill("bruno's long password")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome! Your account is ready.")

    # The series' webinar is on the new colleague's dashboard, with its registrations.
    page.goto(live_server + "/manage/")
    page.get_by_role("link", name=re.compile("Smart Specialisation")).first.click()
    page.get_by_role("link", name="Registrations").click()
    expect(page.get_by_role("cell", name="Camila Rojas", exact=True)).to_be_visible()
    page.goto(f"{live_server}/manage/webinars/{event_id}")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Cancel webinar")).to_have_count(0)
    expect(page.get_by_role("link", name="Team", exact=True)).to_have_count(0)
