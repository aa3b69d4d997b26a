"""Organizers manage webinars through the forms: create, edit, publish, unpublish, cancel, delete."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.factories import make_event, make_user
from tests.helpers import submit, webinar_form
from webinars import clock
from webinars.extensions import db
from webinars.models import Event, Invitation, OutboxMessage, User


def test_create_edit_publish_unpublish_cancel(client, app, auth):
    owner = make_user()
    auth.login(owner)
    response = submit(client, "/manage/webinars/new", webinar_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    event = db.session.scalars(select(Event)).one()
    assert event.status == "draft"
    assert event.capacity == 40
    assert event.timezone == "America/Santiago"
    assert [s.name for s in event.speakers] == ["Camila Rojas", "Ane Etxeberria"]
    local_start = datetime.strptime(webinar_form()["start_date"] + " 16:00", "%Y-%m-%d %H:%M")
    assert event.starts_at == local_start.replace(tzinfo=ZoneInfo("America/Santiago"))
    assert client.get(f"/webinars/{event.slug}").status_code == 404  # drafts are not public

    manage_page = f"/manage/webinars/{event.id}"
    assert submit(client, f"{manage_page}/publish", {}, form_page=manage_page).status_code == 302
    assert client.get(f"/webinars/{event.slug}").status_code == 200

    response = submit(
        client, f"{manage_page}/edit", webinar_form(title="Webinar #17: Circular Economy (new title)")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert event.title.endswith("(new title)")
    assert event.sequence == 1

    assert submit(client, f"{manage_page}/unpublish", {}, form_page=manage_page).status_code == 302
    assert client.get(f"/webinars/{event.slug}").status_code == 404
    assert submit(client, f"{manage_page}/publish", {}, form_page=manage_page).status_code == 302
    assert submit(client, f"{manage_page}/cancel", {}, form_page=manage_page).status_code == 302
    db.session.expire_all()
    assert event.status == "cancelled"
    assert event.sequence == 2
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert "has been cancelled" in page


def test_errors_appear_next_to_the_fields(client, app, auth):
    auth.login(make_user())
    past = (clock.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    response = submit(
        client,
        "/manage/webinars/new",
        webinar_form(
            title="", start_date=past, timezone="Mars/Olympus", capacity="-3", join_url="not a link"
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for field in ("title", "timezone", "capacity", "join_url"):
        assert re.search(rf'id="{field}-error"', page), field
    assert 'aria-describedby="timezone-hint timezone-error"' in page
    assert db.session.scalar(select(func.count(Event.id))) == 0

    response = submit(client, "/manage/webinars/new", webinar_form(start_date=past))
    assert re.search(r'id="start_date-error">[^<]*future', response.get_data(as_text=True))
    assert db.session.scalar(select(func.count(Event.id))) == 0


def test_capacity_cannot_drop_below_confirmed(client, app, auth):
    owner = make_user()
    event = make_event(owner, capacity=5)
    from webinars.registrations import service

    for i in range(3):
        service.register(event, name="P", email=f"p{i}@example.org", consent=True)
    auth.login(owner)
    response = submit(client, f"/manage/webinars/{event.id}/edit", webinar_form(capacity="2"))
    assert "3 people are already confirmed" in response.get_data(as_text=True)


def test_delete_only_a_draft_without_registrations(client, app, auth):
    owner = make_user()
    draft = make_event(owner, publish=False)
    published = make_event(owner, title="Published one")
    auth.login(owner)
    page = f"/manage/webinars/{draft.id}"
    assert submit(client, f"{page}/delete", {}, form_page=page).status_code == 302
    assert db.session.get(Event, draft.id) is None
    page = f"/manage/webinars/{published.id}"
    response = submit(client, f"{page}/delete", {}, form_page=page, follow_redirects=True)
    assert "Only a draft without registrations can be deleted" in response.get_data(as_text=True)
    assert db.session.get(Event, published.id) is not None


def test_registrations_list_paginates_and_exports_csv_safely(client, app, auth):
    owner = make_user()
    event = make_event(owner, capacity=None)
    from webinars.registrations import service

    service.register(event, name='=HYPERLINK("http://evil")', email="evil@example.org", consent=True)
    for i in range(55):
        service.register(event, name=f"Person {i:02d}", email=f"p{i}@example.org", consent=True)
    auth.login(owner)
    first = client.get(f"/manage/webinars/{event.id}/registrations").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = client.get(f"/manage/webinars/{event.id}/registrations?page=2").get_data(as_text=True)
    assert "Person 54" in second
    assert "Person 54" not in first
    csv = client.get(f"/manage/webinars/{event.id}/registrations.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv
    assert "\n=HYPERLINK" not in csv
    assert csv.count("@example.org") == 56


def test_empty_dashboard_and_empty_registrations_guide_the_organizer(client, app, auth):
    owner = make_user()
    auth.login(owner)
    assert "You have no webinars yet" in client.get("/manage/").get_data(as_text=True)
    event = make_event(owner)
    page = client.get(f"/manage/webinars/{event.id}/registrations").get_data(as_text=True)
    assert "Nobody has registered yet" in page


def test_admin_invites_an_organizer_instead_of_choosing_their_password(client, app, auth):
    admin = make_user(admin=True)
    auth.login(admin)
    page = client.get("/manage/organizers").get_data(as_text=True)
    assert 'type="password"' not in page
    response = submit(client, "/manage/organizers", {"email": "camila@example.org"})
    assert response.status_code == 302
    # No account until Camila opens the link and chooses her own password.
    assert db.session.scalar(select(User).where(User.email == "camila@example.org")) is None
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "camila@example.org"))
    assert invitation.make_admin is False
    assert invitation.is_open


def test_cli_creates_organizers(app, monkeypatch):
    runner = app.test_cli_runner()
    monkeypatch.setenv("WEBINARS_PASSWORD", "a long password")
    result = runner.invoke(args=["organizers", "create", "Ana@Example.org", "--name", "Ana", "--admin"])
    assert result.exit_code == 0, result.output
    assert "Created administrator Ana <ana@example.org>" in result.output
    user = db.session.scalar(select(User).where(User.email == "ana@example.org"))
    assert user.is_admin
    assert user.check_password("a long password")

    again = runner.invoke(args=["organizers", "create", "ana@example.org", "--name", "Ana"])
    assert again.exit_code != 0
    assert "already exists" in again.output
    bad = runner.invoke(args=["organizers", "create", "not-an-email", "--name", "X"])
    assert bad.exit_code != 0
    assert "Invalid email" in bad.output

    monkeypatch.delenv("WEBINARS_PASSWORD")
    prompted = runner.invoke(
        args=["organizers", "create", "bea@example.org", "--name", "Bea"],
        input="another long pw\nanother long pw\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    import pytest

    from config import ProductionConfig
    from webinars import create_app

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")
