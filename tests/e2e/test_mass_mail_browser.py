"""In a real browser: an organizer writes a message, reads it in each language it goes out in,
sends a test to themself, and only then sends it to everyone; mail goes to a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_event, make_user
from tests.mailsink import MailSink
from webinars.extensions import db
from webinars.mail import worker
from webinars.registrations import service as registrations


@pytest.fixture
def live_app(app_factory: Callable[..., Flask], live_port: int, smtp_sink: MailSink) -> Flask:
    return app_factory(
        BASE_URL=f"http://127.0.0.1:{live_port}",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_sink.port,
        MAIL_TIMEOUT=5,
    )


def _deliver(app: Flask) -> None:
    with app.app_context():
        worker.deliver_due()
        db.session.remove()


def _recipients(smtp_sink: MailSink) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages())


@pytest.mark.browser
def test_preview_then_test_to_me_then_confirm(
    live_server: str, live_app: Flask, browser_page: Page, smtp_sink: MailSink
) -> None:
    page = browser_page
    with live_app.app_context():
        owner = make_user(email="officer@example.org", name="Olga Officer")
        event = make_event(owner, capacity=10)
        registrations.register(event, name="Ana", email="ana@example.org", consent=True, locale="en")
        registrations.register(event, name="Beto", email="beto@example.org", consent=True, locale="es")
        event_id = event.id
        db.session.remove()
    _deliver(live_app)
    smtp_sink.clear()

    page.goto(live_server + "/login")
    page.get_by_label("Email", exact=True).fill("officer@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(f"{live_server}/manage/webinars/{event_id}/messages/new")
    page.get_by_label("Subject").fill("Slides for Tuesday")
    page.get_by_label("Message", exact=True).fill("The **slides** are online.")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Check and send")).to_be_visible()
    expect(page.get_by_text("English: 1 recipient")).to_be_visible()
    expect(page.get_by_text("Spanish: 1 recipient")).to_be_visible()
    expect(page.get_by_text("This preview shows the email in English.")).to_be_visible()
    frame = page.frame_locator("iframe[title='Email preview (HTML)']")
    expect(frame.locator("strong", has_text="slides")).to_be_visible()  # Markdown rendered

    page.get_by_role("navigation", name="Show the email in").get_by_role("link", name="Spanish").click()
    expect(page.get_by_text("This preview shows the email in Spanish.")).to_be_visible()
    expect(frame.get_by_text("Hola, Attendee,")).to_be_visible()

    page.get_by_role("button", name="Send a test to me (officer@example.org)").click()
    expect(page.get_by_text("A test is on its way to officer@example.org.")).to_be_visible()
    _deliver(live_app)
    assert _recipients(smtp_sink) == ["officer@example.org"]
    assert smtp_sink.messages()[0]["Subject"] == "[Prueba] Slides for Tuesday"

    page.get_by_role("button", name="Send to 2 people").click()
    expect(page.get_by_text("Your message is on its way.")).to_be_visible()
    _deliver(live_app)
    assert _recipients(smtp_sink) == ["ana@example.org", "beto@example.org", "officer@example.org"]
