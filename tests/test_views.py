from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.factories import JOIN_URL, make_event, make_user
from tests.helpers import register_form, submit
from webinars.extensions import db
from webinars.models import Event, OutboxMessage, Registration


def test_first_visit_offers_setup_only_while_no_account_exists(client):
    assert client.get("/login").headers["Location"].endswith("/setup")
    page = client.get("/setup").get_data(as_text=True)
    assert "Create administrator" in page
    response = submit(
        client,
        "/setup",
        {
            "name": "Ana",
            "email": "ana@example.org",
            "password": "long enough pw",
            "confirm": "long enough pw",
        },
    )
    assert response.status_code == 302
    assert client.get("/manage/").status_code == 200
    assert client.get("/setup").headers["Location"].endswith("/login")


def test_post_without_csrf_token_is_refused(client, app):
    event = make_event(capacity=5)
    response = client.post(f"/webinars/{event.slug}", data=register_form())
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_register_through_the_form_answers_the_same_for_a_duplicate(client, app):
    event = make_event(capacity=5)
    url = f"/webinars/{event.slug}"
    first = submit(client, url, register_form())
    second = submit(client, url, register_form(name="Someone else"))
    assert first.status_code == 302
    assert second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    page_one = client.get(first.headers["Location"]).get_data(as_text=True)
    page_two = client.get(second.headers["Location"]).get_data(as_text=True)
    assert page_one == page_two
    assert db.session.scalar(select(func.count(Registration.id))) == 1


def test_join_link_never_on_public_pages(client, app):
    event = make_event(capacity=1)
    submit(client, f"/webinars/{event.slug}", register_form())
    submit(client, f"/webinars/{event.slug}", register_form(email="bea@example.org"))
    for url in (
        "/",
        "/past",
        f"/webinars/{event.slug}",
        f"/webinars/{event.slug}/registered",
        f"/webinars/{event.slug}/calendar.ics",
    ):
        body = client.get(url).get_data(as_text=True)
        assert JOIN_URL not in body, url
    assert event.title in client.get("/").get_data(as_text=True)


def test_manage_link_shows_status_and_join_link_only_when_confirmed(client, app):
    event = make_event(capacity=1)
    submit(client, f"/webinars/{event.slug}", register_form())
    submit(client, f"/webinars/{event.slug}", register_form(email="bea@example.org"))
    ana, bea = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    ana_page = client.get(f"/r/{ana.token}").get_data(as_text=True)
    bea_page = client.get(f"/r/{bea.token}").get_data(as_text=True)
    assert "Confirmed" in ana_page
    assert JOIN_URL in ana_page
    assert "Waitlisted" in bea_page
    assert JOIN_URL not in bea_page
    assert client.get("/r/not-a-real-token").status_code == 404

    response = submit(client, f"/r/{ana.token}/cancel", {}, form_page=f"/r/{ana.token}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, ana.id).status == "cancelled"
    assert db.session.get(Registration, bea.id).status == "confirmed"
    assert JOIN_URL in client.get(f"/r/{bea.token}").get_data(as_text=True)


def test_invalid_email_and_overlong_field_get_field_errors(client, app):
    event = make_event(capacity=5)
    response = submit(client, f"/webinars/{event.slug}", register_form(name="x" * 121, email="nope"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="email-error">[^<]*valid email', page)
    assert re.search(r'id="name-error">[^<]*120', page)
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_consent_is_required(client, app):
    event = make_event(capacity=5)
    data = register_form()
    del data["consent"]
    response = submit(client, f"/webinars/{event.slug}", data)
    assert 'id="consent-error"' in response.get_data(as_text=True)


def test_honeypot_answers_like_success_but_registers_nobody(client, app):
    event = make_event(capacity=5)
    response = submit(client, f"/webinars/{event.slug}", register_form(website="http://spam.example"))
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_script_in_title_and_description_is_inert(client, app, auth):
    owner = make_user()
    event = make_event(owner, title="<script>alert(1)</script> Webinar")
    event.description_md = (
        "Hello <script>alert(2)</script> [x](javascript:alert(3)) <img src=x onerror=alert(4)>"
    )
    db.session.commit()
    for url in (f"/webinars/{event.slug}", "/"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body
        assert 'href="javascript:' not in body
        assert "<img" not in body
        assert "&lt;script&gt;alert(1)" in body
    auth.login(owner)
    body = client.get(f"/manage/webinars/{event.id}").get_data(as_text=True)
    assert "<script>alert" not in body


def test_markdown_is_rendered(client, app):
    event = make_event()
    body = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert "<strong>smart specialisation</strong>" in body


def test_organizer_cannot_see_or_change_another_organizers_webinar(client, app, auth):
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    event = make_event(alice, capacity=5)
    auth.login(bob)
    for url in (
        f"/manage/webinars/{event.id}",
        f"/manage/webinars/{event.id}/edit",
        f"/manage/webinars/{event.id}/registrations",
        f"/manage/webinars/{event.id}/registrations.csv",
    ):
        assert client.get(url).status_code == 404, url
    token = re.search(r'value="([^"]+)"', client.get("/manage/webinars/new").get_data(as_text=True)).group(1)
    for action in ("edit", "cancel", "unpublish", "delete"):
        response = client.post(
            f"/manage/webinars/{event.id}/{action}", data={"csrf_token": token, "title": "Hacked"}
        )
        assert response.status_code == 404, action
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "published"
    assert event.title not in client.get("/manage/").get_data(as_text=True)


def test_admin_manages_every_webinar(client, app, auth):
    event = make_event(make_user(), capacity=5)
    auth.login(make_user(admin=True))
    assert client.get(f"/manage/webinars/{event.id}/registrations").status_code == 200


def test_manage_pages_require_login(client, app, auth):
    organizer = make_user()
    response = client.get("/manage/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]

    auth.login(organizer)
    assert client.get("/manage/").status_code == 200
    auth.logout()
    assert client.get("/manage/").status_code == 302, "signing out must end access to the manage pages"


def test_wrong_password_is_a_field_error(client, app):
    user = make_user()
    response = submit(client, "/login", {"email": user.email, "password": "wrong password"})
    assert response.status_code == 200
    assert "Wrong email or password" in response.get_data(as_text=True)
