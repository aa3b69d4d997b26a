"""Build users and webinars for tests through the same services the app uses."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from itertools import count

from webinars import clock
from webinars.auth import service as accounts
from webinars.events import service as events
from webinars.models import Event, User

PASSWORD = "correct horse battery"
_numbers = count(1)


def make_user(*, admin: bool = False, name: str | None = None, email: str | None = None) -> User:
    n = next(_numbers)
    return accounts.create_user(
        email or f"organizer{n}@example.org", name or f"Organizer {n}", PASSWORD, is_admin=admin
    )


def make_event(
    owner: User | None = None,
    *,
    publish: bool = True,
    starts_in: timedelta = timedelta(days=7),
    capacity: int | None = None,
    title: str = "Webinar #16: Smart Specialisation Strategies and Sustainability",
    timezone: str = "America/Santiago",
    join_url: str = "https://meet.example.org/secret-room-16",
    **fields: object,
) -> Event:
    owner = owner or make_user()
    data = events.EventData(
        title=title,
        starts_at=(clock.now() + starts_in).replace(second=0, microsecond=0),
        timezone=timezone,
        duration_minutes=90,
        summary="Regional innovation policy, from the Basque Country to Chile.",
        description_md="Speakers compare **smart specialisation** strategies.",
        join_url=join_url,
        capacity=capacity,
        speakers=[("Ane Etxeberria", "Orkestra, Basque Country"), ("Camila Rojas", "Universidad de Chile")],
        **fields,  # type: ignore[arg-type]
    )
    event = events.create_event(owner, data)
    if publish:
        events.publish(event)
    return event


def edited(event: Event, **changes: object) -> events.EventData:
    """The webinar's current data with ``changes``: what the edit form submits when one field changes."""
    current = events.EventData.from_event(event)
    return dataclasses.replace(current, **changes)  # type: ignore[arg-type]
