"""The sign-up's hot path, pinned: how many statements a registration runs and in which order, so a
change that adds a round trip (or holds the webinar's row longer) shows up here instead of in a
launch-day queue. Runs on SQLite and PostgreSQL, like every test using ``app``."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import make_event
from tests.helpers import csrf_token, recorded_statements
from webinars.extensions import db
from webinars.models import Event, MailKind, OutboxMessage, Registration, RegistrationStatus


def _sign_up(client, slug: str, email: str) -> tuple[int, list[str]]:
    token = csrf_token(client, f"/webinars/{slug}")
    form = {"csrf_token": token, "name": "Ana Pérez", "email": email, "consent": "y"}
    with recorded_statements() as statements:
        response = client.post(f"/webinars/{slug}", data=form)
    return response.status_code, statements


def _verbs(statements: list[str]) -> list[str]:
    return [" ".join(statement.split()[:3]) for statement in statements]


def test_a_seated_sign_up_runs_five_statements_and_takes_the_seat_last(client, app):
    with app.app_context():
        slug = make_event(capacity=10).slug

    status, statements = _sign_up(client, slug, "ana@example.org")

    assert status == 302
    verbs = _verbs(statements)
    assert len(statements) == 5, "\n".join(statements)
    assert verbs[0].startswith("SELECT")  # the webinar, its series and questions, once
    assert "FROM webhook_endpoint" in statements[1]  # who listens, looked up before the row lock
    assert verbs[2:4] == ["INSERT INTO registration", "INSERT INTO outbox_message"]
    # The webinar's row is locked from this UPDATE to the commit: nothing may run after it.
    assert verbs[4] == "UPDATE event SET"
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
