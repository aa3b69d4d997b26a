"""The product ships in English, Spanish and Portuguese: pages follow the visitor, emails the attendee."""

from __future__ import annotations

from datetime import timedelta

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from config import Config
from tests.factories import make_event
from tests.helpers import submit
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import OutboxMessage
from webinars.registrations import service


def test_pages_follow_the_browser_language_and_the_language_switch(app_factory, app):
    make_event()
    # A second app instance, so each request gets its own app context as in production.
    client = app_factory().test_client()
    assert "Próximos webinars" in client.get("/", headers={"Accept-Language": "es-CL,es;q=0.9"}).get_data(
        as_text=True
    )
    assert "Próximos webinars" in client.get("/?lang=pt").get_data(as_text=True)
    page = client.get("/").get_data(as_text=True)  # the choice is remembered in the session
    assert 'lang="pt"' in page
    assert "Upcoming webinars" not in page
    assert "Upcoming webinars" in client.get("/?lang=en").get_data(as_text=True)


def test_emails_are_written_in_the_language_the_attendee_registered_in(app_factory, app):
    event = make_event(capacity=5)
    client = app_factory().test_client()
    client.get("/?lang=es")
    response = submit(
        client, f"/webinars/{event.slug}", {"name": "Camila", "email": "camila@example.cl", "consent": "y"}
    )
    assert response.status_code == 302
    db.session.rollback()  # see what the other app instance committed
    worker.deliver_due()  # renders the message (into the instance's mail folder)
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.subject == f"Inscripción confirmada: {event.title}"
    assert "Camila" in message.body_text
    assert "You are registered" not in message.body_text


def test_the_worker_writes_reminders_in_the_attendee_language(app, frozen_clock):
    event = make_event(capacity=5)
    service.register(event, name="João", email="joao@example.com.br", consent=True, locale="pt")
    frozen_clock.set(event.starts_at - timedelta(hours=24))
    worker.deliver_due()
    reminder = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).one()
    assert reminder.subject.startswith("Começa em 1 dia")
    assert "João" in reminder.body_text, reminder.body_text
    assert "A reminder" not in reminder.body_text


def test_catalogues_are_complete_and_compiled():
    # Every language of the setting, so a language added there without its catalogue fails here.
    translated = [language for language in Config.LANGUAGES if language != Config.BABEL_DEFAULT_LOCALE]
    assert {"es", "pt"} <= set(translated)
    for language in translated:
        folder = f"webinars/translations/{language}/LC_MESSAGES"
        with open(f"{folder}/messages.po", "rb") as handle:
            catalogue = read_po(handle)
        missing = [
            m.id
            for m in catalogue
            if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
        ]
        assert missing == [], f"{language}: untranslated {missing[:5]}"
        with open(f"{folder}/messages.mo", "rb") as handle:
            compiled = read_mo(handle)
        assert _ids(catalogue) == _ids(compiled), f"{language}: .mo is stale; run make translations"


def _ids(catalogue) -> set:
    return {tuple(m.id) if isinstance(m.id, list | tuple) else m.id for m in catalogue if m.id}
