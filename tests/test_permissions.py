"""Every organizer route goes through the permission layer: walked from the app's URL map, so a new
route is checked the day it is added."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from tests.factories import make_event, make_user
from tests.helpers import csrf_token
from webinars import clock
from webinars.broadcasts import service as broadcasts
from webinars.events import archive_entries
from webinars.extensions import db
from webinars.models import Audience, OutboxMessage, ParticipantRecord, Series, WebhookEndpoint
from webinars.permissions import CAPABILITIES, Capability, Role, may
from webinars.questions import service as questions
from webinars.registrations import service as registrations
from webinars.series import service as series_service

# Every organizer page lives under /manage; nothing else may need a sign-in.
ORGANIZER_PREFIX = "/manage"
ADMIN_ONLY = {"auth.organizers", "auth.set_account_state", "mail_admin.overview", "mail_admin.retry_failed"}
# Actions that end what the later routes act on: walked last.
ENDING = ("erase", "remove", "delete", "cancel")
# Placeholders in organizer URLs, and which object of someone else's each one names.
OBJECT_ARGUMENTS = {
    "event_id",
    "series_id",
    "registration_id",
    "broadcast_id",
    "message_id",
    "question_id",
    "record_id",
    "user_id",
    "endpoint_id",
}
ARCHIVE_ENTRY_ROUTES = ("archive_manage.",)
# Placeholders that name no object, with a value that exists.
OTHER_ARGUMENTS = {"direction": "up", "action": "disable"}


def _organizer_rules(app: Flask) -> list:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(ORGANIZER_PREFIX)]
    assert len(rules) > 15, "the organizer routes were not found where expected"
    return rules


def _someone_elses_objects() -> dict[str, int]:
    """A webinar, series, registration, message and email that belong to another organizer."""
    owner = make_user(name="Owner", email="owner@example.org")
    event = make_event(owner, capacity=5)
    registration = registrations.register(event, name="Ane", email="ane@example.org", consent=True)
    broadcast = broadcasts.create(event, owner, audience=Audience.ALL, subject="Hello", body_md="Hi")
    message = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.event_id == event.id).limit(1)
    ).one()
    series = series_service.create_series(owner, series_service.SeriesData(title="Smart regions"))
    question = questions.add_question(event, questions.QuestionData(kind="short_text", label="Your role"))
    entry = archive_entries.create_entry(
        owner,
        archive_entries.ArchiveEntryData(
            title="Webinar #3", starts_at=clock.now() - timedelta(days=400), timezone="UTC"
        ),
    )
    record = ParticipantRecord(event_id=event.id, source="zoom", name="Ane", minutes=50)
    db.session.add(record)
    # Written directly: the URL rules (and their DNS lookup) are not what this walk is about.
    endpoint = WebhookEndpoint(
        event_id=event.id,
        url="https://hooks.example.org/",
        event_types="webinar.updated",
        secret="whsec_AAAA",
    )
    db.session.add(endpoint)
    db.session.commit()
    return {
        "event_id": event.id,
        "entry_id": entry.id,
        "series_id": series.id,
        "registration_id": registration.registration.id,
        "broadcast_id": broadcast.id,
        "message_id": message.id,
        "question_id": question.id,
        "record_id": record.id,
        "user_id": owner.id,
        "endpoint_id": endpoint.id,
    }


def _request(client, rule, values: dict[str, int], token: str):
    arguments = {**OTHER_ARGUMENTS, **values}
    if rule.endpoint.startswith(ARCHIVE_ENTRY_ROUTES):  # these act on archive entries only
        arguments["event_id"] = values.get("entry_id", values["event_id"])
    url = rule.build({name: arguments[name] for name in rule.arguments}, append_unknown=False)[1]
    if "GET" in rule.methods:
        return "GET", url, client.get(url)
    return "POST", url, client.post(url, data={"csrf_token": token})


def test_an_organizer_without_rights_gets_404_or_403_on_every_organizer_route(client, app, auth):
    values = _someone_elses_objects()
    auth.login(make_user(name="Stranger", email="stranger@example.org"))
    token = csrf_token(client, "/manage/")
    checked = []
    for rule in _organizer_rules(app):
        unknown = set(rule.arguments) - OBJECT_ARGUMENTS - set(OTHER_ARGUMENTS)
        assert not unknown, f"{rule.rule}: add a value for {unknown} to this test"
        if not set(rule.arguments) & OBJECT_ARGUMENTS and rule.endpoint not in ADMIN_ONLY:
            continue  # pages about nothing in particular (the dashboard, a new webinar): any organizer
        method, url, response = _request(client, rule, values, token)
        expected = 403 if rule.endpoint in ADMIN_ONLY else 404
        assert response.status_code == expected, f"{method} {url} answered {response.status_code}"
        checked.append(rule.endpoint)
    assert {
        "manage.edit",
        "broadcasts.retry",
        "series_manage.edit_series",
        "auth.organizers",
        "auth.set_account_state",
        "mail_admin.retry_failed",
        "webhooks.endpoint",
        "webhooks.series_endpoints",
        "webhooks.send_test",
    } <= set(checked)


def test_the_owner_reaches_every_organizer_route_that_the_stranger_could_not(client, app, auth):
    """The same walk as the owner: none of those answers was a 404 for another reason."""
    values = _someone_elses_objects()
    owner = db.session.scalars(db.select(Series)).one().owners[0]
    auth.login(owner)
    token = csrf_token(client, "/manage/")
    rules = sorted(_organizer_rules(app), key=lambda rule: rule.endpoint.endswith(ENDING))
    for rule in rules:
        if not rule.arguments or rule.endpoint in ADMIN_ONLY:
            continue  # accounts are the administrators' business, not an owner's
        method, url, response = _request(client, rule, values, token)
        # A rule may still refuse the action (409, 400): what matters is that the guard let the owner in.
        assert response.status_code not in (403, 404), f"{method} {url} answered {response.status_code}"


def test_anonymous_visitors_are_sent_to_sign_in_from_every_organizer_route(client, app):
    values = {name: 1 for name in OBJECT_ARGUMENTS}
    for rule in _organizer_rules(app):
        method, url, response = _request(client, rule, values, token="")
        location = response.headers.get("Location", "")
        if method == "POST" and response.status_code == 400:
            continue  # refused earlier still, for its missing CSRF token
        assert response.status_code == 302, f"{method} {url} answered {response.status_code}"
        assert re.search(r"/login\?next=", location), f"{method} {url} went to {location!r}"


@pytest.mark.parametrize("role", list(Role))
def test_roles_grant_nested_capabilities(role):
    held = CAPABILITIES[role]
    assert Capability.VIEW in held, f"{role} must at least see what it is granted"
    if Capability.ADMINISTER in held:
        assert held == frozenset(Capability), f"{role} administers, so it may do everything"


def test_administrators_may_do_everything_and_organizers_only_with_their_own(app):
    owner, other, admin = make_user(), make_user(), make_user(admin=True)
    event = make_event(owner)
    for capability in Capability:
        assert may(owner, capability, event)
        assert may(admin, capability, event)
        assert not may(other, capability, event), f"{capability} granted to a stranger"
