"""Capacity and uniqueness hold when many people press Register in the same second.

Four app instances stand in for four web processes: each has its own engine and connection pool,
and 50 threads in each register at once, released together by a barrier.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.factories import make_event
from tests.helpers import pg_engine_options
from webinars.extensions import db
from webinars.models import Event, Registration
from webinars.registrations import service

PROCESSES = 4
THREADS_PER_PROCESS = 50
# 4 x 15 connections stays well inside PostgreSQL's default max_connections of 100.
POOL = {"pool_size": 15, "max_overflow": 0, "pool_timeout": 60}


def _fire(app_factory, backend: str, event_id: int, emails: list[str]) -> list[str]:
    options = {**pg_engine_options(), **POOL} if backend == "postgresql" else {}
    apps = [app_factory(SQLALCHEMY_ENGINE_OPTIONS=options) for _ in range(PROCESSES)]
    barrier = threading.Barrier(len(emails))

    def attempt(index: int) -> str:
        with apps[index % PROCESSES].app_context():
            event = db.session.get(Event, event_id)
            db.session.commit()  # let go of the read transaction before waiting
            barrier.wait(timeout=60)
            outcome = service.register(event, name=f"Person {index}", email=emails[index], consent=True)
            status = outcome.registration.status
            db.session.remove()
            return status

    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        return list(pool.map(attempt, range(len(emails))))


def test_200_concurrent_registrations_fill_exactly_50_seats(app_factory, backend):
    app = app_factory()
    with app.app_context():
        event_id = make_event(capacity=50).id

    statuses = _fire(app_factory, backend, event_id, [f"person{i}@example.org" for i in range(200)])

    assert Counter(statuses) == {"confirmed": 50, "waitlisted": 150}
    with app.app_context():
        stored = Counter(
            db.session.scalars(select(Registration.status).where(Registration.event_id == event_id))
        )
        assert stored == {"confirmed": 50, "waitlisted": 150}
        assert db.session.get(Event, event_id).seats_taken == 50


def test_same_email_20_times_at_once_makes_one_registration(app_factory, backend):
    app = app_factory()
    with app.app_context():
        event_id = make_event(capacity=50).id

    statuses = _fire(app_factory, backend, event_id, ["Same.Person@Example.org"] * 20)

    assert set(statuses) == {"confirmed"}
    with app.app_context():
        count = db.session.scalar(
            select(func.count(Registration.id)).where(Registration.event_id == event_id)
        )
        assert count == 1
        assert db.session.get(Event, event_id).seats_taken == 1
