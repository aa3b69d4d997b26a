"""The sign-up's hot path, pinned: how many statements a registration runs and in which order, so a
change that adds a round trip (or holds the webinar's row longer) shows up here instead of in a
launch-day queue. Runs on SQLite and PostgreSQL, like every test using ``app``."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_event, make_series
from tests.helpers import csrf_token, recorded_statements
from webinars.extensions import db
from webinars.models import (
    Event,
    MailKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    User,
    WebhookDelivery,
    WebhookEventType,
)
from webinars.webhooks import service as webhooks


def _sign_up(client, slug: str, email: str) -> tuple[int, list[str]]:
    token = csrf_token(client, f"/webinars/{slug}")
    form = {"csrf_token": token, "name": "Ana Pérez", "email": email, "consent": "y"}
    with recorded_statements() as statements:
        response = client.post(f"/webinars/{slug}", data=form)
    return response.status_code, statements


def _verbs(statements: list[str]) -> list[str]:
    return [" ".join(statement.split()[:3]) for statement in statements]


def test_a_seated_sign_up_runs_four_statements_and_takes_the_seat_last(client, app):
    with app.app_context():
        slug = make_event(capacity=10).slug

    status, statements = _sign_up(client, slug, "ana@example.org")

    assert status == 302
    verbs = _verbs(statements)
    assert len(statements) == 4, "\n".join(statements)
    # The webinar, its series and questions, and whether anyone listens for webhooks, once.
    assert verbs[0].startswith("SELECT")
    assert "webhook_endpoint" in statements[0]
    assert verbs[1:3] == ["INSERT INTO registration", "INSERT INTO outbox_message"]
    # The webinar's row is locked from this UPDATE to the commit: nothing may run after it.
    assert verbs[3] == "UPDATE event SET"
    with app.app_context():
        registration = db.session.scalars(select(Registration)).one()
        assert registration.status == RegistrationStatus.CONFIRMED
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.kind == MailKind.REGISTRATION_CONFIRMED
        assert db.session.scalar(select(Event.seats_taken)) == 1


def test_a_sign_up_for_a_full_webinar_is_waitlisted_with_the_waitlist_email(client, app):
    with app.app_context():
        slug = make_event(capacity=0).slug

    status, _statements = _sign_up(client, slug, "ana@example.org")

    assert status == 302
    with app.app_context():
        registration = db.session.scalars(select(Registration)).one()
        assert registration.status == RegistrationStatus.WAITLISTED
        assert registration.confirmed_at is None
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.kind == MailKind.WAITLISTED
        assert db.session.scalar(select(Event.seats_taken)) == 0


def test_a_repeated_sign_up_keeps_one_registration_and_its_seat(client, app):
    with app.app_context():
        slug = make_event(capacity=10).slug

    first, _ = _sign_up(client, slug, "ana@example.org")
    again, _ = _sign_up(client, slug, "ANA@example.org")

    assert (first, again) == (302, 302)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 1
        assert db.session.scalar(select(Event.seats_taken)) == 1


def test_a_sign_up_on_the_page_reaches_the_series_webhook(app_factory):
    """The sign-up learns who listens from the webinar's own query; an endpoint on its series is
    found there, and the delivery is written with the registration (one more statement, after it)."""
    hooked = app_factory(WEBHOOKS_ALLOW_PRIVATE=True)
    with hooked.app_context():
        event = make_event(capacity=10)
        owner = db.session.get(User, event.owner_id)
        event.series = make_series(owner)
        db.session.commit()
        webhooks.create_endpoint(
            event.series,
            webhooks.EndpointData(url="http://127.0.0.1:9/hook", event_types=["registration.created"]),
            owner,
        )
        db.session.commit()
        slug = event.slug

    with hooked.app_context():
        status, statements = _sign_up(hooked.test_client(), slug, "ana@example.org")

        assert status == 302
        assert "FROM webhook_endpoint" in statements[1], "\n".join(statements)
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        assert delivery.event_type == WebhookEventType.REGISTRATION_CREATED
