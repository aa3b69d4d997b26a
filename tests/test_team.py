"""Teams: editors and viewers per webinar and series, invitations by email, the audit log, and the
administrators' organizer accounts (invite, edit, disable, remove)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from tests.factories import PASSWORD, make_event, make_registration, make_series, make_user
from tests.helpers import by_recipient, csrf_token, login, submit, text_of
from webinars import clock
from webinars.attendance import parsers as attendance_parsers
from webinars.attendance import service as attendance
from webinars.auth import service as accounts
from webinars.auth import tokens as api_tokens
from webinars.broadcasts import service as broadcasts
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import notifications, worker
from webinars.models import (
    ApiToken,
    Audience,
    AuditAction,
    AuditEntry,
    Event,
    EventStatus,
    Invitation,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Series,
    TeamMember,
    TokenScope,
    User,
)
from webinars.permissions import Capability, Role, may
from webinars.privacy import service as privacy
from webinars.registrations import export
from webinars.registrations import service as registrations
from webinars.team import service as team

LINK = re.compile(r"https?://\S+/invitations/\S+")


def _grant(target: Event | Series, user: User, role: Role) -> None:
    """A role given the way it is in use: by an invitation the person accepts."""
    owner = target.owner if isinstance(target, Event) else target.owners[0]
    invitation = team.invite(target, owner, user.email, role)
    team.accept(invitation, user)


def _event_rules(app: Flask) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/manage/webinars/<int:event_id>") and set(rule.arguments) <= {"event_id"}
    ]


# --- roles ---------------------------------------------------------------------------------------------


def test_a_viewer_sees_lists_and_reports_and_every_change_is_refused(client, app, auth):
    owner, viewer = make_user(), make_user(name="Vera Viewer")
    event = make_event(owner, capacity=5)
    make_registration(event, "ane@example.org")
    _grant(event, viewer, Role.VIEWER)
    auth.login(viewer)

    for url in (
        f"/manage/webinars/{event.id}",
        f"/manage/webinars/{event.id}/registrations",
        f"/manage/webinars/{event.id}/registrations.csv",
        f"/manage/webinars/{event.id}/registrations.xlsx",
        f"/manage/webinars/{event.id}/report",
        "/manage/",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/manage/webinars/{event.id}").get_data(as_text=True)
    assert f"/manage/webinars/{event.id}/edit" not in page
    assert "Cancel webinar" not in page

    token = csrf_token(client, "/manage/")
    refused = []
    for rule in _event_rules(app):
        url = rule.build({"event_id": event.id}, append_unknown=False)[1]
        if "POST" in rule.methods:
            response = client.post(url, data={"csrf_token": token, "title": "Taken over"})
            assert response.status_code == 404, f"POST {url} answered {response.status_code}"
            refused.append(rule.endpoint)
    assert {"manage.edit", "manage.publish", "manage.decide", "broadcasts.new_message"} <= set(refused)
    for url in (f"/manage/webinars/{event.id}/edit", f"/manage/webinars/{event.id}/team"):
        assert client.get(url).status_code == 404, url
    db.session.refresh(event)
    assert event.title != "Taken over"
    assert event.status == EventStatus.PUBLISHED


@pytest.mark.parametrize(("role", "offered"), [(Role.VIEWER, False), (Role.EDITOR, True)])
def test_the_email_log_offers_retries_only_to_those_who_may_retry(client, app, auth, role, offered):
    owner, member = make_user(), make_user(name="Teo Team")
    event = make_event(owner, capacity=5)
    registration = make_registration(event, "ane@example.org")
    failed = notifications.send(registration, MailKind.REGISTRATION_CONFIRMED)
    failed.status = OutboxStatus.FAILED
    db.session.commit()
    _grant(event, member, role)
    auth.login(member)

    page = client.get(f"/manage/webinars/{event.id}/emails").get_data(as_text=True)

    assert "ane@example.org" in page
    assert ("Retry failed emails" in page) is offered
    assert (f"/emails/{failed.id}/retry" in page) is offered


def test_a_viewer_token_may_read_but_not_write_through_the_api(client, app):
    owner, viewer = make_user(), make_user()
    event = make_event(owner)
    _grant(event, viewer, Role.VIEWER)
    _token, secret = api_tokens.create_token(viewer, "CRM", TokenScope.WRITE)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/manage/webinars/{event.id}", headers=headers).status_code == 200
    response = client.patch(
        f"/api/v1/manage/webinars/{event.id}", json={"title": "Taken over"}, headers=headers
    )
    assert response.status_code == 404
    assert client.post(f"/api/v1/manage/webinars/{event.id}/cancel", headers=headers).status_code == 404
    db.session.refresh(event)
    assert event.title != "Taken over"


def test_an_editor_edits_and_publishes_but_cannot_cancel_delete_or_change_the_team(client, app, auth):
    owner, editor = make_user(), make_user()
    event = make_event(owner, publish=False)
    _grant(event, editor, Role.EDITOR)
    auth.login(editor)
    assert client.get(f"/manage/webinars/{event.id}/edit").status_code == 200
    response = submit(
        client, f"/manage/webinars/{event.id}/publish", {}, form_page=f"/manage/webinars/{event.id}"
    )
    assert response.status_code == 302
    db.session.refresh(event)
    assert event.status == EventStatus.PUBLISHED
    token = csrf_token(client, "/manage/")
    for action in ("cancel", "delete", "team"):
        url = f"/manage/webinars/{event.id}/{action}"
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert client.get(f"/manage/webinars/{event.id}/team").status_code == 404
    assert client.get(f"/manage/webinars/{event.id}/audit").status_code == 404
    db.session.refresh(event)
    assert event.status == EventStatus.PUBLISHED


def test_series_roles_cover_the_series_webinars_and_co_owners_run_them_like_the_owner(client, app, auth):
    owner, co_owner, viewer, stranger = make_user(), make_user(), make_user(), make_user()
    series = make_series(owner, co_owner)
    event = make_event(owner, series_id=series.id, number=16)
    _grant(series, viewer, Role.VIEWER)
    for capability in Capability:
        assert may(co_owner, capability, event), capability
    assert may(viewer, Capability.VIEW, event)
    assert not may(viewer, Capability.EDIT, event)
    assert not may(stranger, Capability.VIEW, event)

    auth.login(co_owner)
    assert client.get(f"/manage/webinars/{event.id}/registrations").status_code == 200
    assert str(event.id) in client.get("/manage/").get_data(as_text=True)
    response = submit(
        client, f"/manage/webinars/{event.id}/cancel", {}, form_page=f"/manage/webinars/{event.id}"
    )
    assert response.status_code == 302
    db.session.refresh(event)
    assert event.status == EventStatus.CANCELLED


# --- invitations ---------------------------------------------------------------------------------------


@pytest.fixture
def mail_site(app_factory, smtp_sink) -> Flask:
    """The app delivering to the SMTP sink, with no context held open: each request gets its own, so
    several browsers (test clients) can be signed in as different people."""
    return app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port, MAIL_TIMEOUT=5)


def _invitation_link(site: Flask, smtp_sink, address: str) -> str:
    """Deliver the outbox; the path of the last invitation link emailed to ``address``."""
    with site.app_context():
        worker.deliver_due()
        db.session.remove()
    messages = by_recipient([item.parsed() for item in smtp_sink.received], address)
    assert messages, f"no email to {address}"
    match = LINK.search(text_of(messages[-1]))
    assert match, text_of(messages[-1])
    return urlsplit(match.group(0)).path


def _user(site: Flask, address: str) -> User | None:
    with site.app_context():
        user = db.session.scalar(select(User).where(User.email == address))
        if user is not None:
            db.session.expunge(user)
        return user


def _may(site: Flask, user_id: int, capability: Capability, event_id: int) -> bool:
    with site.app_context():
        return may(db.session.get(User, user_id), capability, db.session.get(Event, event_id))


def test_an_invitation_by_email_opens_an_account_with_its_role_and_works_once(mail_site, smtp_sink):
    with mail_site.app_context():
        owner = make_user(name="Ada Owner")
        series = make_series(owner, title="LA Webinar")
        event = make_event(owner, series_id=series.id, number=16)
        owner_email, series_id, event_id = owner.email, series.id, event.id
    client = mail_site.test_client()
    login(client, User(email=owner_email))
    page = client.get(f"/manage/series/{series_id}/team").get_data(as_text=True)
    assert "Invite someone" in page
    response = submit(
        client, f"/manage/series/{series_id}/team", {"email": "Bea@Example.org", "role": "editor"}
    )
    assert response.status_code == 302
    assert "bea@example.org" in client.get(f"/manage/series/{series_id}/team").get_data(as_text=True)

    link = _invitation_link(mail_site, smtp_sink, "bea@example.org")
    mail = by_recipient([item.parsed() for item in smtp_sink.received], "bea@example.org")[-1]
    assert "Ada Owner" in str(mail["Subject"])
    assert "LA Webinar" in text_of(mail)

    newcomer = mail_site.test_client()
    form = newcomer.get(link)
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"
    response = submit(
        newcomer, link, {"name": "Bea Editor", "password": "a long password", "confirm": "a long password"}
    )
    assert response.status_code == 302
    bea = _user(mail_site, "bea@example.org")
    assert bea is not None
    assert bea.check_password("a long password")
    assert bea.is_admin is False
    assert _may(mail_site, bea.id, Capability.EDIT, event_id)
    assert not _may(mail_site, bea.id, Capability.ADMINISTER, event_id)
    # Signed in at once, and managing the series' webinar.
    assert newcomer.get(f"/manage/webinars/{event_id}/registrations").status_code == 200

    assert newcomer.get(link).status_code == 410  # single use
    with mail_site.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.series_id == series_id)))
    assert {AuditAction.TEAM_INVITED, AuditAction.TEAM_JOINED} <= actions


def test_an_invitation_link_expires(app_factory, smtp_sink):
    site = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port, INVITATION_MAX_AGE=-1)
    with site.app_context():
        owner = make_user()
        team.invite(make_event(owner), owner, "late@example.org", Role.VIEWER)
    link = _invitation_link(site, smtp_sink, "late@example.org")
    response = site.test_client().get(link)
    assert response.status_code == 410
    assert "no longer works" in response.get_data(as_text=True)
    assert _user(site, "late@example.org") is None


def test_an_existing_organizer_signs_in_and_accepts(mail_site, smtp_sink):
    with mail_site.app_context():
        owner, colleague = make_user(), make_user(email="carla@example.org")
        event = make_event(owner)
        team.invite(event, owner, colleague.email, Role.VIEWER)
        colleague_id, event_id = colleague.id, event.id
    link = _invitation_link(mail_site, smtp_sink, "carla@example.org")
    client = mail_site.test_client()
    response = client.get(link)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    login(client, User(email="carla@example.org"))
    assert "Join the team" in client.get(link).get_data(as_text=True)
    assert not _may(mail_site, colleague_id, Capability.VIEW, event_id)
    assert submit(client, link, {}).status_code == 302
    assert _may(mail_site, colleague_id, Capability.VIEW, event_id)
    assert not _may(mail_site, colleague_id, Capability.EDIT, event_id)
    assert client.get(link).status_code == 410


def test_a_resent_invitation_replaces_the_old_link_and_a_revoked_one_stops(mail_site, smtp_sink):
    with mail_site.app_context():
        owner = make_user()
        event = make_event(owner)
        invitation_id = team.invite(event, owner, "dora@example.org", Role.EDITOR).id
        owner_email, event_id = owner.email, event.id
    first = _invitation_link(mail_site, smtp_sink, "dora@example.org")
    client = mail_site.test_client()
    login(client, User(email=owner_email))
    team_page = f"/manage/webinars/{event_id}/team"
    response = submit(client, f"/manage/team/invitations/{invitation_id}/resend", {}, form_page=team_page)
    assert response.status_code == 302
    second = _invitation_link(mail_site, smtp_sink, "dora@example.org")
    assert first != second
    visitor = mail_site.test_client()
    assert visitor.get(first).status_code == 410
    assert visitor.get(second).status_code == 200
    submit(client, f"/manage/team/invitations/{invitation_id}/revoke", {}, form_page=team_page)
    assert visitor.get(second).status_code == 410


def test_owners_change_roles_and_remove_people_but_a_series_keeps_an_owner(client, app, auth):
    owner, colleague = make_user(), make_user(name="Eva")
    series = make_series(owner)
    _grant(series, colleague, Role.VIEWER)
    team.change_role(series, colleague, Role.OWNER)
    assert {user.id for user in db.session.get(Series, series.id).owners} == {owner.id, colleague.id}
    team.remove(series, owner)
    assert not may(owner, Capability.VIEW, series)
    auth.login(colleague)
    page = submit(
        client,
        f"/manage/series/{series.id}/team/{colleague.id}/remove",
        {},
        form_page=f"/manage/series/{series.id}/team",
    )
    assert page.status_code == 302
    assert "at least one owner" in client.get(page.headers["Location"]).get_data(as_text=True)
    assert may(colleague, Capability.ADMINISTER, series)
    assert db.session.scalar(select(TeamMember.id).where(TeamMember.user_id == colleague.id)) is None


def test_an_invitation_to_someone_already_on_the_team_is_refused(client, app, auth):
    owner, colleague = make_user(), make_user()
    event = make_event(owner)
    _grant(event, colleague, Role.EDITOR)
    auth.login(owner)
    response = submit(
        client, f"/manage/webinars/{event.id}/team", {"email": colleague.email, "role": "viewer"}
    )
    assert response.status_code == 200
    assert "already on the team" in response.get_data(as_text=True)
    response = submit(
        client, f"/manage/webinars/{event.id}/team", {"email": "not an address", "role": "viewer"}
    )
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


# --- audit log -----------------------------------------------------------------------------------------


def test_the_audit_log_records_who_did_what(client, app, auth):
    owner, colleague = make_user(name="Olga Owner"), make_user()
    event = make_event(owner, publish=False, approval_required=True, capacity=5)
    events.publish(event)
    pending = [
        registrations.register(event, name=f"P{n}", email=f"p{n}@example.org", consent=True).registration
        for n in range(3)
    ]
    registrations.decide(event, [pending[0].id], approve_them=True)
    registrations.decide(event, [pending[1].id], approve_them=False)
    registrations.cancel_many(event, [pending[0].id])
    added = registrations.add_by_hand(event, name="Hand", email="hand@example.org", send_invitation=False)
    export.note_export(event, "CSV")
    broadcasts.create(event, owner, audience=Audience.ALL, subject="Hello", body_md="Hi")
    data = events.EventData.from_event(event)
    data.starts_at = event.starts_at + timedelta(days=1)
    events.update_event(event, data)
    report = attendance_parsers.parse(
        b"Name (Original Name),User Email,Duration (Minutes)\nHand,hand@example.org,40\n"
    )
    attendance.import_report(event, report, 10)
    privacy.erase(added)
    _grant(event, colleague, Role.VIEWER)
    team.change_role(event, colleague, Role.EDITOR)
    team.remove(event, colleague)
    event.starts_at = clock.now() - timedelta(hours=2)
    db.session.commit()
    broadcasts.set_recording(event, url="https://video.example.org/16", summary="Thanks")
    events.cancel_event(event)

    recorded = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.event_id == event.id)))
    assert {
        AuditAction.CREATED,
        AuditAction.PUBLISHED,
        AuditAction.APPROVED,
        AuditAction.DECLINED,
        AuditAction.REGISTRATIONS_CANCELLED,
        AuditAction.PERSON_ADDED,
        AuditAction.EXPORTED,
        AuditAction.MESSAGE_SENT,
        AuditAction.RESCHEDULED,
        AuditAction.ATTENDANCE_IMPORTED,
        AuditAction.PERSON_ERASED,
        AuditAction.TEAM_INVITED,
        AuditAction.TEAM_JOINED,
        AuditAction.TEAM_ROLE_CHANGED,
        AuditAction.TEAM_REMOVED,
        AuditAction.RECORDING_SAVED,
        AuditAction.CANCELLED,
    } <= recorded

    auth.login(owner)
    page = client.get(f"/manage/webinars/{event.id}/audit").get_data(as_text=True)
    assert "Rescheduled" in page
    assert "Registrations exported" in page
    assert "Olga Owner" in page
    # The log names nobody who registered: an erased person stays erased.
    assert "hand@example.org" not in page
    assert "P1" not in page


def test_the_audit_log_names_the_actor_of_a_page_and_of_the_api(client, app, auth):
    owner = make_user(name="Olga Owner")
    event = make_event(owner, publish=False)
    auth.login(owner)
    submit(client, f"/manage/webinars/{event.id}/publish", {}, form_page=f"/manage/webinars/{event.id}")
    _token, secret = api_tokens.create_token(owner, "CRM", TokenScope.WRITE)
    registration = make_registration(event, "ane@example.org")
    response = client.post(
        f"/api/v1/manage/webinars/{event.id}/registrations/{registration.id}/cancel",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    response = client.post(
        f"/api/v1/manage/webinars/{event.id}/cancel", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.event_id == event.id)
    ).all()
    assert (AuditAction.PUBLISHED, owner.id) in rows
    assert (AuditAction.CANCELLED, owner.id) in rows
    assert (AuditAction.REGISTRATIONS_CANCELLED, owner.id) in rows


def test_the_audit_log_is_paginated(client, app, auth):
    owner = make_user()
    event = make_event(owner)
    for _ in range(app.config["PER_PAGE"] + 5):
        export.note_export(event, "CSV")
    auth.login(owner)
    first = client.get(f"/manage/webinars/{event.id}/audit").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert client.get(f"/manage/webinars/{event.id}/audit?page=2").status_code == 200


# --- organizer accounts --------------------------------------------------------------------------------


def test_an_administrator_invites_an_organizer_who_chooses_a_password(mail_site, smtp_sink):
    with mail_site.app_context():
        admin_email = make_user(admin=True).email
    client = mail_site.test_client()
    login(client, User(email=admin_email))
    response = submit(client, "/manage/organizers", {"email": "fran@example.org", "is_admin": "y"})
    assert response.status_code == 302
    assert "fran@example.org" in client.get("/manage/organizers").get_data(as_text=True)
    link = _invitation_link(mail_site, smtp_sink, "fran@example.org")
    with mail_site.app_context():
        assert MailKind.ACCOUNT_INVITATION in set(db.session.scalars(select(OutboxMessage.kind)))
    newcomer = mail_site.test_client()
    submit(newcomer, link, {"name": "Fran", "password": "fran's long pw", "confirm": "fran's long pw"})
    fran = _user(mail_site, "fran@example.org")
    assert fran is not None
    assert fran.is_admin is True
    assert newcomer.get("/manage/organizers").status_code == 200
    assert newcomer.get(link).status_code == 410


def test_an_administrator_edits_an_organizer(client, app, auth):
    admin, organizer = make_user(admin=True), make_user(name="Gil")
    auth.login(admin)
    url = f"/manage/organizers/{organizer.id}/edit"
    response = submit(client, url, {"name": "Gil Ortega", "email": "gil@example.org", "is_admin": "y"})
    assert response.status_code == 302
    db.session.refresh(organizer)
    assert (organizer.name, organizer.email, organizer.is_admin) == ("Gil Ortega", "gil@example.org", True)
    page = submit(client, url, {"name": "Gil", "email": admin.email})
    assert "already exists" in page.get_data(as_text=True)
    page = submit(client, f"/manage/organizers/{admin.id}/edit", {"name": "Me", "email": admin.email})
    assert "your own administrator rights" in page.get_data(as_text=True)


def test_disabling_an_organizer_ends_their_remembered_session_and_their_tokens(app_factory):
    site = app_factory()
    with site.app_context():
        admin, organizer = make_user(admin=True), make_user()
        _token, secret = api_tokens.create_token(organizer, "CRM", TokenScope.READ)
        admin_email, organizer_email, organizer_id = admin.email, organizer.email, organizer.id
    theirs = site.test_client()
    submit(theirs, "/login", {"email": organizer_email, "password": PASSWORD, "remember": "y"})
    assert theirs.get("/manage/").status_code == 200
    admins = site.test_client()
    login(admins, User(email=admin_email))
    token = csrf_token(admins, "/manage/organizers")
    assert (
        admins.post(f"/manage/organizers/{organizer_id}/disable", data={"csrf_token": token}).status_code
        == 302
    )
    assert theirs.get("/manage/").status_code == 302  # the session and its remember-me cookie are over
    headers = {"Authorization": f"Bearer {secret}"}
    assert theirs.get("/api/v1/manage/webinars", headers=headers).status_code == 401


def test_removing_an_organizer_hands_their_webinars_and_series_to_another(client, app, auth):
    admin, leaving, heir = make_user(admin=True), make_user(name="Leaving"), make_user(name="Heir")
    series = make_series(leaving)
    event = make_event(leaving, series_id=series.id, number=1)
    other = make_event(leaving)
    api_tokens.create_token(leaving, "CRM", TokenScope.READ)
    auth.login(admin)
    url = f"/manage/organizers/{leaving.id}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "Heir" in page
    leaving_id = leaving.id
    response = submit(client, url, {"heir": str(heir.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, leaving_id) is None
    assert db.session.get(Event, event.id).owner_id == heir.id
    assert db.session.get(Event, other.id).owner_id == heir.id
    assert [owner.id for owner in db.session.get(Series, series.id).owners] == [heir.id]
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == leaving_id)) is None
    assert AuditAction.OWNER_CHANGED in set(db.session.scalars(select(AuditEntry.action)))
    # Nobody removes their own account, nor hands webinars to the account being removed.
    assert "your own account" in submit(
        client, f"/manage/organizers/{admin.id}/remove", {"heir": str(heir.id)}
    ).get_data(as_text=True)


def test_organizer_accounts_are_the_administrators_business(client, app, auth):
    organizer, other = make_user(), make_user()
    auth.login(organizer)
    token = csrf_token(client, "/manage/")
    assert client.get(f"/manage/organizers/{other.id}/edit").status_code == 403
    assert client.post(f"/manage/organizers/{other.id}/remove", data={"csrf_token": token}).status_code == 403
    invitation = accounts.invite_organizer(make_user(admin=True), "h@example.org")
    assert (
        client.post(
            f"/manage/organizers/invitations/{invitation.id}/revoke", data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert db.session.get(Invitation, invitation.id).is_open


def test_the_command_line_invites_an_organizer(app):
    result = app.test_cli_runner().invoke(args=["organizers", "invite", "ines@example.org", "--admin"])
    assert result.exit_code == 0, result.output
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "ines@example.org"))
    assert invitation.make_admin is True
    assert db.session.scalar(
        select(OutboxMessage.kind).where(OutboxMessage.recipient == "ines@example.org")
    ) == (MailKind.ACCOUNT_INVITATION)
    make_user(email="taken@example.org")
    refused = app.test_cli_runner().invoke(args=["organizers", "invite", "taken@example.org"])
    assert refused.exit_code != 0
    assert "already exists" in refused.output
