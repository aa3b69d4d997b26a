"""The brand and the components in a real browser: an administrator sets the site's name, colour, logo
and footer links by keyboard-reachable labelled controls; public and organizer pages then draw them
from the one stylesheet (buttons of at least 44 px, styled definition lists, tables inside their column)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from tests.factories import PASSWORD, make_event, make_registration, make_user
from webinars.extensions import db

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40">'
    '<rect width="120" height="40" fill="#1b6b3a"/></svg>'
)


def _sign_in(page: Page, server: str, email: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _box(page: Page, locator) -> dict[str, float]:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None
    return box


def test_an_administrator_brands_the_site_and_every_page_shows_it(
    live_app: Flask, live_server: str, browser_page: Page, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with live_app.app_context():
        admin = make_user(admin=True)
        event = make_event(admin)
        for number in range(3):
            make_registration(event, f"person.with.a.rather.long.address.{number}@universidad.example.org")
        email, slug, event_id = admin.email, event.slug, event.id
        db.session.remove()
    logo = tmp_path / "logo.svg"
    logo.write_text(LOGO, encoding="utf-8")

    browser_page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in(browser_page, live_server, email)
    browser_page.get_by_role("link", name="Site settings").click()
    browser_page.get_by_label("Site name").fill("Smart Regions")
    browser_page.get_by_label("Accent colour").fill("#ffdd00")
    browser_page.get_by_role("button", name="Save").click()
    # Too light for white text: refused beside the field, with a darker colour offered.
    # The refusal is said twice, as it should be: in the error summary at the top (a link to the field)
    # and beside the field itself.
    expect(browser_page.get_by_role("link", name="Accent colour: White text on")).to_be_visible()
    expect(browser_page.get_by_label("Accent colour")).to_have_accessible_description(
        re.compile("Choose a darker colour")
    )

    browser_page.get_by_label("Accent colour").fill("#1b6b3a")
    browser_page.get_by_label("Logo", exact=True).set_input_files(str(logo))
    browser_page.get_by_label("Privacy notice: address").fill("https://example.org/privacy")
    browser_page.get_by_label("Organisation name").fill("Orkestra")
    browser_page.get_by_label("Organisation website").fill("https://example.org")
    browser_page.get_by_role("button", name="Save").click()
    expect(browser_page.get_by_role("status")).to_contain_text("Site settings saved")

    # The public page: name and logo in the header, the accent on the buttons, the footer links, and
    # the privacy notice beside the consent box.
    browser_page.goto(f"{live_server}/webinars/{slug}")
    home = browser_page.get_by_role("banner").get_by_role("link", name="Smart Regions")
    expect(home).to_be_visible()
    expect(home.locator("img")).to_have_attribute("src", re.compile(r"/brand-\d+/logo\.svg"))
    assert browser_page.evaluate("document.querySelector('header img').naturalWidth") == 120
    register = browser_page.get_by_role("button", name="Register")
    expect(register).to_have_css("background-color", "rgb(27, 107, 58)")
    assert _box(browser_page, register)["height"] >= 44
    footer = browser_page.get_by_role("contentinfo")
    expect(footer.get_by_role("link", name="Orkestra")).to_have_attribute("href", "https://example.org")
    expect(footer.get_by_role("link", name="Privacy notice")).to_be_visible()
    consent = browser_page.get_by_role("checkbox", name="I agree to receive emails")
    expect(consent).to_have_accessible_description("Privacy notice (opens in a new tab)")

    # The organizer's webinar page: a styled definition list, buttons big enough to touch.
    browser_page.goto(f"{live_server}/manage/webinars/{event_id}")
    details = browser_page.locator("dl").first
    expect(details).to_have_css("display", "grid")
    for name in ("Unpublish", "Cancel webinar"):
        box = _box(browser_page, browser_page.get_by_role("button", name=name))
        assert box["height"] >= 44, name
        assert box["width"] >= 44, name

    # The registrations table stays inside its column at 1280 px.
    browser_page.goto(f"{live_server}/manage/webinars/{event_id}/registrations")
    region = browser_page.get_by_role("region", name="Registrations")
    main = _box(browser_page, browser_page.get_by_role("main"))
    table = _box(browser_page, region)
    assert table["x"] + table["width"] <= main["x"] + main["width"] + 1
    assert browser_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # No element on these pages carries an inline style the policy would block.
    assert browser_page.evaluate("document.querySelectorAll('[style]').length") == 0
