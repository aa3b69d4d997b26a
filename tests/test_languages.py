"""Languages: what each response says about its language, links in emails that keep the reader's,
webinars held in a language of their own, translated labels for every enum member, and times in
emails in the reader's order and words."""

from __future__ import annotations

import csv
import inspect
import io
import re
from enum import StrEnum
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from icalendar import Calendar

from tests.factories import make_event, make_series, make_user
from tests.helpers import login, submit, webinar_form
from webinars import labels, models
from webinars.extensions import db
from webinars.mail import notifications
from webinars.models import Event, MailKind, OutboxMessage, Registration
from webinars.registrations import service as registrations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "webinars" / "translations"
HTML_LANG = re.compile(r'<html lang="([^"]+)"')


def _html_lang(body: str) -> str:
    match = HTML_LANG.search(body)
    assert match, "the page has no <html lang>"
    return match.group(1)


def _register(event: Event, email: str, *, locale: str, timezone: str | None = None):
    return registrations.register(
        event, name="Joana Silva", email=email, consent=True, locale=locale, timezone=timezone
    ).registration


# --- headers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("pt-BR,pt;q=0.9", "pt"), ("pt-PT", "pt"), ("es-CL,es;q=0.8", "es"), ("en-US", "en"), ("de-DE", "en")],
)
def test_every_page_says_its_language_and_that_it_varies_with_the_browsers(client, app, accept, expected):
    event = make_event()
    for url in ("/", f"/webinars/{event.slug}", "/series", "/past", "/login", "/no-such-page"):
        response = client.get(url, headers={"Accept-Language": accept})
        assert response.mimetype == "text/html", url
        assert "Accept-Language" in response.vary, url
        assert response.headers["Content-Language"] == expected, url
        assert _html_lang(response.get_data(as_text=True)) == expected, url


def test_a_chosen_language_is_kept_for_the_pages_that_follow_and_said_in_the_headers(client, app):
    chosen = client.get("/?lang=es", headers={"Accept-Language": "en-US"})
    assert chosen.headers["Content-Language"] == "es"
    following = client.get("/past", headers={"Accept-Language": "en-US"})
    assert following.headers["Content-Language"] == "es"
    assert _html_lang(following.get_data(as_text=True)) == "es"
    # The language comes from the session cookie too: shared caches must keep one copy per cookie.
    assert {"Accept-Language", "Cookie"} <= set(following.vary)


def test_a_response_made_in_no_language_claims_none(client, app):
    script = client.get("/static/site.js")
    assert "Content-Language" not in script.headers
    assert "Accept-Language" not in script.vary


# --- links in emails ---------------------------------------------------------------------------------


def test_links_in_emails_carry_the_attendees_language(app):
    event = make_event()
    registration = _register(event, "joana@example.com.br", locale="pt")
    rendered = notifications.render(registration, MailKind.REGISTRATION_CONFIRMED)
    manage = f"/r/{registration.token}?lang=pt"
    assert manage in rendered["body_text"]
    assert manage in rendered["body_html"]
    assert f"/webinars/{event.slug}?lang=pt" in rendered["body_text"]
    reminder = notifications.render(registration, MailKind.REMINDER, offset_minutes=60)
    assert "?lang=pt" in reminder["body_text"].split("unsubscribe", 1)[-1] or re.search(
        r"/unsubscribe/[^\s]+\?lang=pt", reminder["body_text"]
    )
    # The header the mail program POSTs to needs no language: no page is shown.
    assert "lang=" not in (reminder["unsubscribe_url"] or "")


def test_a_manage_link_opens_in_the_attendees_language_whatever_the_browser_says(client, app):
    event = make_event()
    registration = _register(event, "joana@example.com.br", locale="pt")
    body = notifications.render(registration, MailKind.REGISTRATION_CONFIRMED)["body_text"]
    (link,) = set(re.findall(r"http://webinars\.test(/r/[^\s]+)", body))

    page = client.get(link, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "pt"
    text = page.get_data(as_text=True)
    assert _html_lang(text) == "pt"
    assert "Cancelar inscrição" in text or "inscrição" in text
    # The rest of the visit stays in Portuguese, though the browser asks for English.
    home = client.get("/", headers={"Accept-Language": "en-US"})
    assert home.headers["Content-Language"] == "pt"


# --- a webinar's own language ------------------------------------------------------------------------


def test_a_webinar_in_spanish_is_marked_so_on_an_english_page_and_its_card(client, app):
    event = make_event(language="es", title="Webinar #18: Especialización inteligente")
    page = client.get(f"/webinars/{event.slug}?lang=en").get_data(as_text=True)
    assert _html_lang(page) == "en"
    assert '<h1 lang="es">Webinar #18: Especialización inteligente</h1>' in page
    assert '<ul class="speakers with-photos" lang="es">' in page
    assert re.search(r'<div class="description" lang="es">', page)
    assert "In Spanish" in page

    card = client.get("/").get_data(as_text=True)
    assert re.search(r'<h2 lang="es"><a href="/webinars/' + re.escape(event.slug), card)
    assert "In Spanish" in card
    assert "Em espanhol" in client.get("/?lang=pt").get_data(as_text=True)
    assert "En español" in client.get("/?lang=es").get_data(as_text=True)


def test_a_series_in_portuguese_is_marked_and_its_new_webinars_start_in_it(client, app):
    owner = make_user()
    series = make_series(owner, title="Regiões Inteligentes", language="pt")
    event = make_event(owner, series_id=series.id)
    assert event.language == "pt"
    page = client.get(f"/series/{series.slug}").get_data(as_text=True)
    assert '<h1 lang="pt">Regiões Inteligentes</h1>' in page
    assert client.get("/api/v1/series").get_json()["items"][0]["language"] == "pt"


def test_feeds_and_calendars_say_the_language_of_the_title(client, app):
    event = make_event(language="es")
    atom = client.get("/feeds/webinars.atom?lang=en").get_data(as_text=True)
    assert '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">' in atom
    assert '<entry xml:lang="es">' in atom
    assert '<summary type="text" xml:lang="en">' in atom

    (vevent,) = Calendar.from_ical(client.get(f"/webinars/{event.slug}/calendar.ics").data).walk("VEVENT")
    assert vevent["SUMMARY"].params["LANGUAGE"] == "es"


def test_the_webinar_form_offers_the_languages_and_starts_from_the_organizers(client, app):
    owner = make_user()
    login(client, owner)
    form = client.get("/manage/webinars/new?lang=es").get_data(as_text=True)
    assert re.search(r'<option selected value="es">Español</option>', form)
    assert '<option value="pt">Portugués</option>' in form
    created = submit(client, "/manage/webinars/new", webinar_form(language="pt"))
    assert created.status_code == 302
    event = db.session.scalars(db.select(Event).order_by(Event.id.desc())).first()
    assert event is not None
    assert event.language == "pt"

    refused = submit(client, "/manage/webinars/new", webinar_form(language="xx-evil"))
    assert refused.status_code == 200
    assert "aria-invalid" in refused.get_data(as_text=True)


def test_the_api_reads_and_writes_the_language(client, app):
    event = make_event(language="es")
    (item,) = client.get("/api/v1/webinars").get_json()["items"]
    assert item["language"] == "es"
    assert client.get(f"/api/v1/webinars/{event.slug}").get_json()["language"] == "es"
    document = client.get("/api/v1/openapi.json").get_json()
    assert "language" in document["components"]["schemas"]["WebinarWrite"]["properties"]


# --- labels ------------------------------------------------------------------------------------------


def _enums() -> list[type[StrEnum]]:
    return [
        value
        for value in vars(models).values()
        if inspect.isclass(value) and issubclass(value, StrEnum) and value.__module__ == models.__name__
    ]


@pytest.mark.parametrize("language", ["es", "pt"])
def test_every_member_of_every_enum_has_a_label_translated(language):
    catalogue = read_po((TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb"))
    enums = _enums()
    assert {models.MailKind, models.RegistrationStatus, models.OutboxStatus} <= set(enums)
    for enum in enums:
        assert enum in labels.LABELS, f"{enum.__name__} has no labels"
        for member in enum:
            assert member in labels.LABELS[enum], f"{enum.__name__}.{member.name} has no label"
            msgid = labels.LABELS[enum][member]._args[0]
            message = catalogue.get(msgid)
            assert message is not None, f"{msgid!r} is not in the {language} catalogue"
            assert message.string, f"{msgid!r} is not translated in {language}"


def test_the_email_log_names_kinds_and_statuses_in_the_organizers_language(client, app):
    owner = make_user()
    event = make_event(owner)
    _register(event, "joana@example.com.br", locale="pt")
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1
    login(client, owner)
    log = client.get(f"/manage/webinars/{event.id}/emails?lang=es").get_data(as_text=True)
    assert "Inscripción confirmada" in log
    assert "registration_confirmed" not in log
    assert "registration confirmed" not in log
    log_pt = client.get(f"/manage/webinars/{event.id}/emails?lang=pt").get_data(as_text=True)
    assert "Inscrição confirmada" in log_pt


def test_spreadsheets_for_people_are_labelled_and_the_apis_keeps_machine_names(client, app):
    owner = make_user()
    event = make_event(owner)
    _register(event, "joana@example.com.br", locale="pt")
    login(client, owner)
    exported = client.get(f"/manage/webinars/{event.id}/registrations.csv?lang=es").get_data(as_text=True)
    header, row = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert header[:4] == ["Nombre", "Correo electrónico", "Organización", "Estado"]
    assert row[3] == "Confirmado"
    report = client.get(f"/manage/webinars/{event.id}/report.csv?lang=pt").get_data(as_text=True)
    assert "Confirmado" in report


# --- times in emails ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reader_label", "event_label", "city"),
    [
        ("en", "Your time:", "Webinar's time zone:", "Sao Paulo"),
        ("es", "Tu hora:", "Zona horaria del webinar:", "São Paulo"),
        ("pt", "Seu horário:", "Fuso horário do webinar:", "São Paulo"),
    ],
)
def test_emails_put_the_readers_own_time_first_with_friendly_zone_names(
    app, language, reader_label, event_label, city
):
    event = make_event(timezone="Europe/Madrid")
    registration = _register(event, "joana@example.com.br", locale=language, timezone="America/Sao_Paulo")
    rendered = notifications.render(registration, MailKind.REGISTRATION_CONFIRMED)
    for body in (rendered["body_text"], rendered["body_html"]):
        reader = body.index(reader_label)
        webinar = body.index(event_label)
        utc = body.index("(UTC)")
        assert reader < webinar < utc, language
        assert f"({city}, UTC−03:00)" in body
        assert "(Madrid, UTC+01:00)" in body or "(Madri, UTC+01:00)" in body
        for raw in ("America/Sao_Paulo", "America/Sao Paulo", "Europe/Madrid", "GMT", "UTC-03:00"):
            assert raw not in body, (language, raw)


def test_a_person_added_by_hand_gets_emails_in_the_language_the_organizer_picks(client, app):
    owner = make_user()
    event = make_event(owner, language="pt")
    login(client, owner)
    page = f"/manage/webinars/{event.id}/registrations"
    assert '<option selected value="pt">Português</option>' in client.get(page).get_data(as_text=True)
    fields = {"name": "Lucía Pérez", "email": "lucia@example.cl", "send_invitation": "y", "language": "es"}
    assert submit(client, f"{page}/add", fields, form_page=page).status_code == 302
    (registration,) = db.session.scalars(db.select(Registration).where(Registration.event_id == event.id))
    assert registration.locale == "es"
    body = notifications.render(registration, MailKind.REGISTRATION_CONFIRMED)["body_text"]
    assert f"/r/{registration.token}?lang=es" in body
