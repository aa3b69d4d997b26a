"""Approval mode: sign-ups wait without a seat; the organizer approves (seat or waitlist) or declines."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.factories import make_event, make_user
from tests.helpers import by_recipient, calendar_of, pg_engine_options, register_form, submit, text_of
from webinars.extensions import db
from webinars.mail import worker
from webinars.models import Event, OutboxMessage, Registration
from webinars.registrations import service


def _register(event, email: str, name: str = "Ana Pérez") -> Registration:
    return service.register(event, name=name, email=email, consent=True).registration


def _kinds(address: str) -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
        )
    )


def test_pending_takes_no_seat_and_gets_a_received_email(mail_app, smtp_sink):
    event = make_event(capacity=1, approval_required=True)
    registration = _register(event, "ana@example.org")
    assert registration.status == "pending"
    db.session.refresh(event)
    assert event.seats_taken == 0
    worker.deliver_due()
    (message,) = by_recipient(smtp_sink.messages(), "ana@example.org")
    assert str(message["Subject"]).startswith("We received your request")
    assert calendar_of(message) is None  # no invitation, no join link before approval
    assert event.join_url not in text_of(message)

    again = service.register(event, name="Ana Pérez", email="ana@example.org", consent=True)
    assert not again.created
    assert again.registration.status == "pending"


def test_approve_takes_seats_atomically_then_waitlists(mail_app, smtp_sink):
    event = make_event(capacity=1, approval_required=True)
    first = _register(event, "first@example.org")
    second = _register(event, "second@example.org")
    assert service.decide(event, [first.id, second.id], approve_them=True) == 2
    db.session.expire_all()
    assert (first.status, second.status) == ("confirmed", "waitlisted")
    assert db.session.get(Event, event.id).seats_taken == 1
    worker.deliver_due()
    (invitation,) = [
        m for m in by_recipient(smtp_sink.messages(), "first@example.org") if calendar_of(m) is not None
    ]
    assert calendar_of(invitation)[1] == "REQUEST"
    assert _kinds("second@example.org") == ["registration_pending", "waitlisted"]
    # A decision already taken is not taken twice.
    assert service.decide(event, [first.id], approve_them=True) == 0


def test_decline_with_reason_sends_it(mail_app, smtp_sink):
    event = make_event(approval_required=True)
    registration = _register(event, "ana@example.org")
    assert (
        service.decide(event, [registration.id], approve_them=False, reason="The room is for members.") == 1
    )
    db.session.refresh(registration)
    assert registration.status == "rejected"
    worker.deliver_due()
    declined = [
        m for m in by_recipient(smtp_sink.messages(), "ana@example.org") if "not accepted" in m["Subject"]
    ]
    assert "The room is for members." in text_of(declined[0])


def test_bulk_decisions_through_the_registrations_page(auth, client, app):
    owner = make_user()
    event = make_event(owner, capacity=10, approval_required=True)
    people = [_register(event, f"person{n}@example.org", name=f"Person {n}") for n in range(4)]
    other_event = make_event(capacity=10, approval_required=True)
    stranger = _register(other_event, "stranger@example.org")
    auth.login(owner)
    page = f"/manage/webinars/{event.id}/registrations"
    listing = client.get(page).get_data(as_text=True)
    assert "Approve selected" in listing
    assert "Awaiting approval" in listing

    chosen = {"registration": [people[0].id, people[1].id, stranger.id], "decision": "approve"}
    response = submit(client, f"{page}/decide", chosen, form_page=page)
    assert response.status_code == 302
    declined = {"registration": [people[2].id], "decision": "decline", "reason": "Full of members"}
    assert submit(client, f"{page}/decide", declined, form_page=page).status_code == 302
    db.session.expire_all()
    assert [p.status for p in people] == ["confirmed", "confirmed", "rejected", "pending"]
    assert db.session.get(Registration, stranger.id).status == "pending"  # not this organizer's webinar

    nothing = submit(client, f"{page}/decide", {"decision": "approve"}, form_page=page, follow_redirects=True)
    assert "Tick at least one person" in nothing.get_data(as_text=True)


def test_public_page_and_form_in_approval_mode(client, app):
    event = make_event(approval_required=True)
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert "Request to attend" in page
    url = f"/webinars/{event.slug}"
    response = submit(client, url, register_form(), form_page=url, follow_redirects=True)
    assert "The organizers review every request" in response.get_data(as_text=True)
    registration = db.session.scalars(select(Registration)).one()
    manage = client.get(f"/r/{registration.token}").get_data(as_text=True)
    assert "Awaiting approval" in manage


def test_organizers_approving_at_once_give_one_seat_each_and_never_overbook(app_factory, backend):
    """Four organizers (four processes) approve the same 30 requests at the same moment: each
    request is approved once, and 10 seats are never exceeded."""
    app = app_factory()
    with app.app_context():
        event = make_event(capacity=10, approval_required=True)
        event_id = event.id
        ids = [_register(event, f"person{n}@example.org", name=f"Person {n}").id for n in range(30)]
        db.session.remove()
    options = {**pg_engine_options(), "pool_size": 2, "max_overflow": 0} if backend == "postgresql" else {}
    apps = [app_factory(SQLALCHEMY_ENGINE_OPTIONS=options) for _ in range(4)]
    barrier = threading.Barrier(len(apps))

    def approve_all(each_app) -> int:
        with each_app.app_context():
            target = db.session.get(Event, event_id)
            db.session.commit()
            barrier.wait(timeout=60)
            try:
                return service.decide(target, ids, approve_them=True)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(apps)) as pool:
        changed = list(pool.map(approve_all, apps, timeout=120))

    assert sum(changed) == 30
    with app.app_context():
        statuses = Counter(db.session.scalars(select(Registration.status)))
        assert statuses == {"confirmed": 10, "waitlisted": 20}
        assert db.session.get(Event, event_id).seats_taken == 10
        invitations = db.session.scalar(
            select(func.count()).where(OutboxMessage.kind == "registration_confirmed")
        )
        assert invitations == 10


def test_request_and_decision_emails_in_the_attendee_language(app):
    event = make_event(approval_required=True)
    registration = service.register(
        event, name="João Silva", email="joao@example.com.br", consent=True, locale="pt"
    ).registration
    service.decide(event, [registration.id], approve_them=False, reason="Vagas só para membros.")
    worker.deliver_due()
    pending, declined = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.id)
    ).all()
    assert pending.subject == f"Recebemos seu pedido: {event.title}"
    assert "Recebemos seu pedido para participar" in pending.body_text
    assert declined.subject == f"Seu pedido não foi aceito: {event.title}"
    assert "Vagas só para membros." in declined.body_text
    assert "O motivo:" in declined.body_html
