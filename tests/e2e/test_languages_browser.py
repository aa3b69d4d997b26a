"""A Portuguese attendee opens the link from her email in a browser set to American English: the page,
and the rest of her visit, stay in Portuguese; the webinar's own text keeps its language."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import make_event
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import MailKind, OutboxMessage
from webinars.registrations import service as registrations

TITLE = "Webinar #19: Especialización inteligente en Chile"


def _emailed_manage_link(app: Flask, base_url: str) -> tuple[str, str]:
    """(slug, the manage link of the invitation as the worker wrote it) for a Portuguese sign-up."""
    with app.app_context():
        event = make_event(title=TITLE, language="es", timezone="America/Santiago")
        registrations.register(
            event,
            name="Joana Silva",
            email="joana@example.com.br",
            consent=True,
            locale="pt",
            timezone="America/Sao_Paulo",
        )
        worker.deliver_due()
        body = db.session.scalars(
            select(OutboxMessage.body_text).where(OutboxMessage.kind == MailKind.REGISTRATION_CONFIRMED)
        ).one()
        slug = event.slug
        db.session.remove()
    assert body is not None
    match = re.search(re.escape(base_url) + r"/r/[A-Za-z0-9_-]+\?lang=pt", body)
    assert match, f"no manage link with the attendee's language in the email:\n{body}"
    assert body.index("Seu horário:") < body.index("Fuso horário do webinar:")
    return slug, match.group(0)


@pytest.mark.browser
def test_a_portuguese_attendees_manage_link_opens_in_portuguese_in_an_english_browser(
    live_app: Flask, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    assert page.evaluate("navigator.language") == "en-US"
    slug, link = _emailed_manage_link(live_app, live_server)

    response = page.goto(link)
    assert response is not None
    assert response.ok
    assert response.headers["content-language"] == "pt"
    assert "accept-language" in response.headers["vary"].lower()
    expect(page.locator("html")).to_have_attribute("lang", "pt")
    expect(page.get_by_role("heading", level=1, name="Sua inscrição")).to_be_visible()
    expect(page.get_by_role("button", name="Cancelar minha inscrição")).to_be_visible()
    # The webinar's title is Spanish text on a Portuguese page, and says so.
    expect(page.get_by_role("link", name=TITLE)).to_have_attribute("lang", "es")

    # Following a link on the site, the browser's English does not take over again.
    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(re.escape(f"/webinars/{slug}")))
    expect(page.locator("html")).to_have_attribute("lang", "pt")
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_have_attribute("lang", "es")
    expect(page.get_by_text("Em espanhol")).to_be_visible()
