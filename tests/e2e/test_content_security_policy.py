"""The browser enforces the site's Content-Security-Policy, and the site's own scripts still work under it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from flask import Flask

from tests.factories import PASSWORD, make_event, make_user
from webinars.extensions import db
from webinars.models import Event, EventStatus

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_scripts_run_from_static_files_and_inline_ones_are_refused(
    live_app: Flask, live_server: str, browser_page: Page
) -> None:
    from playwright.sync_api import expect

    with live_app.app_context():
        owner = make_user()
        event = make_event(owner)
        email, slug, event_id = owner.email, event.slug, event.id
        db.session.remove()
    browser_page.goto(f"{live_server}/webinars/{slug}")
    # site.js filled in the visitor's time zone and the local time: static scripts run.
    expect(browser_page.locator("input[name=timezone]")).to_have_value("Europe/Madrid")
    expect(browser_page.locator("[data-local-target]").first).to_be_visible()
    # An injected inline script is refused by the browser.
    from playwright.sync_api import Error

    with pytest.raises(Error, match="violates the following Content Security Policy directive"):
        browser_page.add_script_tag(content="window.injected = true;")
    assert browser_page.evaluate("window.injected === undefined")

    # Forms that undo something still ask first (a data-confirm attribute, not an inline handler).
    browser_page.goto(f"{live_server}/login")
    browser_page.get_by_label("Email", exact=True).fill(email)
    browser_page.get_by_label("Password", exact=True).fill(PASSWORD)
    browser_page.get_by_role("button", name="Sign in").click()
    browser_page.goto(f"{live_server}/manage/webinars/{event_id}")
    questions: list[str] = []

    def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.dismiss()

    browser_page.on("dialog", dismiss)
    browser_page.get_by_role("button", name="Cancel webinar").click()
    expect(browser_page.get_by_role("button", name="Cancel webinar")).to_be_visible()
    assert questions == ["Cancel this webinar and notify every registered person?"]
    with live_app.app_context():
        assert db.session.get(Event, event_id).status == EventStatus.PUBLISHED
        db.session.remove()
