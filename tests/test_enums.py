"""Statuses, mail kinds and audiences are enums in the model, stored as their string values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from tests.factories import make_event
from webinars.events import service as events
from webinars.extensions import db
from webinars.models import Event, EventStatus, Registration, RegistrationStatus
from webinars.registrations import service as registrations


def test_statuses_are_stored_as_their_values_and_read_back_as_members(app):
    event = make_event(capacity=1)
    registrations.register(event, name="Ane", email="ane@example.org", consent=True)
    registrations.register(event, name="Bea", email="bea@example.org", consent=True)
    db.session.expire_all()

    stored = dict(db.session.execute(sa.text("SELECT email, status FROM registration")).all())
    assert stored == {"ane@example.org": "confirmed", "bea@example.org": "waitlisted"}
    statuses = {r.email: r.status for r in db.session.scalars(sa.select(Registration))}
    assert statuses == {
        "ane@example.org": RegistrationStatus.CONFIRMED,
        "bea@example.org": RegistrationStatus.WAITLISTED,
    }
    assert all(type(status) is RegistrationStatus for status in statuses.values())
    assert type(db.session.get(Event, event.id).status) is EventStatus


def test_a_value_outside_the_enum_is_refused_on_the_way_in(app):
    event = make_event()
    # SQLAlchemy refuses the value before the database sees it.
    with pytest.raises(StatementError, match="archived"):
        db.session.execute(sa.update(Event).where(Event.id == event.id).values(status="archived"))
    db.session.rollback()


def test_the_join_link_rule_is_one_property(app):
    event = make_event(capacity=1)
    seated = registrations.register(event, name="Ane", email="ane@example.org", consent=True).registration
    waiting = registrations.register(event, name="Bea", email="bea@example.org", consent=True).registration
    assert (seated.can_join, seated.join_url) == (True, event.join_url)
    assert (waiting.can_join, waiting.join_url) == (False, None)

    events.cancel_event(event)
    assert (seated.can_join, seated.join_url) == (False, None), "a cancelled webinar has no join link"
