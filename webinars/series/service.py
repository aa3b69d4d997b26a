"""Series rules: who may use a series, and the next number in it."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Event, Series, User, series_owner


def manageable(user: User):  # type: ignore[no-untyped-def]
    """A select() of the series ``user`` may manage or file webinars under."""
    query = select(Series).order_by(Series.title)
    if not user.is_admin:
        query = query.join(series_owner).where(series_owner.c.user_id == user.id)
    return query


def choices_for(user: User) -> list[tuple[int, str]]:
    return [(series.id, series.title) for series in db.session.scalars(manageable(user))]


def next_number(series_id: int) -> int:
    highest = db.session.scalar(select(func.max(Event.number)).where(Event.series_id == series_id))
    return (highest or 0) + 1
