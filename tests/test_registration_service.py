from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import edited, make_event
from webinars.extensions import db
from webinars.models import OutboxMessage, Registration, RegistrationStatus
from webinars.registrations import service


def _register(event, email: str, name: str = "Attendee"):
    return service.register(event, name=name, email=email, consent=True)


def _kinds(registration: Registration) -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.registration_id == registration.id)
            .order_by(OutboxMessage.id)
        )
    )


def test_confirmed_while_seats_remain_then_waitlisted(app):
    event = make_event(capacity=2)
    first = _register(event, "ana@example.org").registration
    second = _register(event, "bea@example.org").registration
    third = _register(event, "carla@example.org").registration
    assert [first.status, second.status, third.status] == ["confirmed", "confirmed", "waitlisted"]
    db.session.refresh(event)
    assert event.seats_taken == 2
    assert event.seats_left == 0
    assert _kinds(first) == ["registration_confirmed"]
    assert _kinds(third) == ["waitlisted"]


def test_unlimited_capacity_always_confirms(app):
    event = make_event(capacity=None)
    outcomes = [_register(event, f"p{i}@example.org") for i in range(5)]
    assert {o.registration.status for o in outcomes} == {"confirmed"}


def test_same_email_normalised_is_one_registration_and_resends(app, frozen_clock):
    event = make_event(capacity=10)
    first = _register(event, "Ana.Lopez@Example.ORG")
    assert first.created
    assert first.registration.email == "ana.lopez@example.org"
    frozen_clock.advance(minutes=5)
    again = _register(event, "  ana.lopez@example.org ")
    assert not again.created
    assert again.registration.id == first.registration.id
    count = db.session.scalar(select(func.count(Registration.id)).where(Registration.event_id == event.id))
    assert count == 1
    assert _kinds(first.registration) == ["registration_confirmed", "invite_resent"]


def test_repeated_sign_up_within_minutes_does_not_flood_the_inbox(app):
    event = make_event(capacity=10)
    outcome = _register(event, "ana@example.org")
    for _ in range(3):
        _register(event, "ana@example.org")
    assert _kinds(outcome.registration) == ["registration_confirmed"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [("unpublished", "not_published"), ("cancelled", "cancelled"), ("deadline", "closed")],
)
def test_refused_when_not_open(app, frozen_clock, change, reason):
    from webinars.events import service as events

    event = make_event(capacity=10, publish=change != "unpublished")
    if change == "cancelled":
        events.cancel_event(event)
    if change == "deadline":
        frozen_clock.advance(days=8)
    with pytest.raises(service.RegistrationRefused) as refused:
        _register(event, "late@example.org")
    assert refused.value.reason == reason


def test_deadline_before_start_closes_registration(app, frozen_clock):
    event = make_event(capacity=10, registration_deadline=None)
    from webinars.events import service as events

    data = edited(event, registration_deadline=event.starts_at - timedelta(days=2))
    events.update_event(event, data)
    frozen_clock.advance(days=5, hours=1)
    with pytest.raises(service.RegistrationRefused):
        _register(event, "late@example.org")


def test_cancel_frees_seat_and_promotes_earliest_waitlisted(app):
    event = make_event(capacity=1)
    holder = _register(event, "holder@example.org").registration
    early = _register(event, "early@example.org").registration
    late = _register(event, "late@example.org").registration
    assert early.status == "waitlisted"
    assert late.status == "waitlisted"

    service.cancel(holder)

    db.session.refresh(early)
    db.session.refresh(late)
    db.session.refresh(event)
    assert holder.status == "cancelled"
    assert holder.cancelled_at is not None
    assert early.status == "confirmed"
    assert early.confirmed_at is not None
    assert late.status == "waitlisted"
    assert event.seats_taken == 1
    assert _kinds(holder) == ["registration_confirmed", "registration_cancelled"]
    assert _kinds(early) == ["waitlisted", "promoted"]


def test_cancelling_a_waitlisted_registration_promotes_nobody(app):
    event = make_event(capacity=1)
    _register(event, "holder@example.org")
    waiting = _register(event, "w1@example.org").registration
    other = _register(event, "w2@example.org").registration
    service.cancel(waiting)
    db.session.refresh(other)
    db.session.refresh(event)
    assert other.status == "waitlisted"
    assert event.seats_taken == 1


def test_cancel_twice_is_harmless(app):
    event = make_event(capacity=3)
    registration = _register(event, "ana@example.org").registration
    service.cancel(registration)
    service.cancel(registration)
    db.session.refresh(event)
    assert event.seats_taken == 0
    assert _kinds(registration).count("registration_cancelled") == 1


def test_signing_up_again_with_a_cancelled_address_changes_nothing_and_mails_the_owner(app, frozen_clock):
    event = make_event(capacity=3)
    registration = service.register(
        event, name="Ana", email="ana@example.org", organisation="UdeC", consent=True, locale="es"
    ).registration
    service.cancel(registration)
    frozen_clock.advance(minutes=5)  # past the resend interval
    again = service.register(
        event, name="Mallory", email="ana@example.org", organisation="Evil Corp", consent=True, locale="pt"
    )
    db.session.refresh(registration)
    assert again.registration.id == registration.id
    assert not again.created
    assert registration.status == RegistrationStatus.CANCELLED
    assert (registration.name, registration.organisation, registration.locale) == ("Ana", "UdeC", "es")
    assert _kinds(registration)[-1] == "manage_link"
    db.session.refresh(event)
    assert event.seats_taken == 0


def test_signing_up_again_with_an_active_address_keeps_its_details(app, frozen_clock):
    event = make_event(capacity=3)
    registration = _register(event, "ana@example.org", name="Ana").registration
    frozen_clock.advance(minutes=5)
    service.register(
        event, name="Mallory", email="ANA@example.org", organisation="X", consent=True, locale="pt"
    )
    db.session.refresh(registration)
    assert (registration.name, registration.organisation, registration.locale) == ("Ana", "", "en")
    assert _kinds(registration) == ["registration_confirmed", "invite_resent"]


def test_the_owner_registers_again_from_the_manage_page(app):
    event = make_event(capacity=3)
    registration = _register(event, "ana@example.org", name="Ana").registration
    service.cancel(registration)
    outcome = service.register_again(registration)
    assert outcome.registration.status == RegistrationStatus.CONFIRMED
    assert registration.cancelled_at is None
    assert _kinds(registration)[-1] == "registration_confirmed"
    db.session.refresh(event)
    assert event.seats_taken == 1


def test_a_non_ascii_local_part_is_refused_and_an_idn_domain_accepted(app):
    from webinars.text import UnsupportedAddress

    event = make_event(capacity=3)
    with pytest.raises(UnsupportedAddress):
        _register(event, "josé@example.net")
    assert _register(event, "ana@ñandú.cl").registration.email == "ana@ñandú.cl"


def test_invalid_email_is_refused(app):
    event = make_event(capacity=3)
    with pytest.raises(ValueError):
        _register(event, "not-an-address")


def test_tokens_are_unguessable_and_unique(app):
    event = make_event()
    tokens = {_register(event, f"p{i}@example.org").registration.token for i in range(20)}
    assert len(tokens) == 20
    assert [token for token in tokens if len(token) < 43] == [], "tokens shorter than 256 bits"
    assert service.get_by_token("x" * 200) is None
    assert service.get_by_token("") is None
