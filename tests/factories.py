"""Build users, webinars and series for tests through the same services the app uses."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from itertools import count

from webinars import clock
from webinars.auth import service as accounts
from webinars.events import service as events
from webinars.models import Event, Registration, Series, User
from webinars.registrations import service as registrations
from webinars.series import service as series_service

PASSWORD = "correct horse battery"
# The join link of every webinar make_event builds: only confirmed attendees may ever see it.
JOIN_URL = "https://meet.example.org/secret-room-16"
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
    join_url: str = JOIN_URL,
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


def make_registration(
    event: Event, email: str, name: str = "Ane Etxeberria", timezone: str | None = None
) -> Registration:
    """Register ``email`` as the public form does (consent given): confirmed or waitlisted by seats left."""
    return registrations.register(event, name=name, email=email, consent=True, timezone=timezone).registration


def make_series(*owners: User, title: str = "Smart Regions", **fields: object) -> Series:
    """A series owned by ``owners`` (created by the first), or by a new administrator."""
    editor = owners[0] if owners else make_user(admin=True)
    data = series_service.SeriesData(title=title, owner_ids=[o.id for o in owners] or [editor.id], **fields)  # type: ignore[arg-type]
    return series_service.create_series(editor, data)


def edited(event: Event, **changes: object) -> events.EventData:
    """The webinar's current data with ``changes``: what the edit form submits when one field changes."""
    current = events.EventData.from_event(event)
    return dataclasses.replace(current, **changes)  # type: ignore[arg-type]
