"""Who may act on what: the one place that decides, for every organizer page and service.

Two questions, two tools:

- *Is anyone signed in?* ``signed_in`` (a view decorator) and ``require_sign_in(blueprint)`` (every
  view of a blueprint) send anonymous visitors to the login page.
- *May this person do this to that webinar or series?* ``event_for`` and ``series_for`` load the
  object and answer 404 (not 403: nobody learns that an id exists) unless the current user holds the
  capability. ``may`` answers the same question for services and templates, and ``events_visible_to``
  / ``series_visible_to`` are the same rule as queries, for lists.

A user's capabilities on an object come from their role on it. Today there are two ways to have one:
being an administrator (every capability on everything) and owning the object (OWNER). Roles granted
per webinar or series (EDITOR, VIEWER) only need ``_role_on`` to look them up: the capability table
and every caller stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar, cast

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import Select, false, select

from .database import get_by_id
from .models import Event, Series, User, WebhookEndpoint, series_owner


class Capability(StrEnum):
    VIEW = "view"  # its management pages, registrations, export, email log
    EDIT = "edit"  # change, publish, write to attendees, record attendance, resend mail
    ADMINISTER = "administer"  # cancel or delete the webinar, change a series' owners


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.EDITOR: frozenset({Capability.VIEW, Capability.EDIT}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}

# The roles that hold a capability, for the queries that list what a user may act on.
ROLES_WITH: dict[Capability, frozenset[Role]] = {
    capability: frozenset(role for role, held in CAPABILITIES.items() if capability in held)
    for capability in Capability
}

F = TypeVar("F", bound=Callable[..., Any])


# --- signed in ---------------------------------------------------------------------------------------


def signed_in(view: F) -> F:
    """The view needs a signed-in organizer; others go to the login page and come back after."""
    return cast(F, login_required(view))


def require_sign_in(blueprint: Blueprint) -> None:
    """Every view of ``blueprint`` needs a signed-in organizer."""

    @blueprint.before_request
    @signed_in
    def _signed_in() -> None:
        return None


def require_admin() -> None:
    """Organizer accounts are the administrators' business: 403 for everyone else."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


# --- roles and capabilities ----------------------------------------------------------------------------


def _role_on(user: User, target: Event | Series) -> Role | None:
    if isinstance(target, Event):
        return Role.OWNER if target.owner_id == user.id else None
    return Role.OWNER if any(owner.id == user.id for owner in target.owners) else None


def may(user: User, capability: Capability, target: Event | Series) -> bool:
    """Whether ``user`` may do what ``capability`` allows to ``target``."""
    if user.is_admin:
        return True
    role = _role_on(user, target)
    return role is not None and capability in CAPABILITIES[role]


def event_for(event_id: int, capability: Capability = Capability.VIEW) -> Event:
    """The webinar, if the current user holds ``capability`` on it; 404 otherwise."""
    event = get_by_id(Event, event_id)
    if event is None or not may(current_user, capability, event):
        abort(404)
    return event


def series_for(series_id: int, capability: Capability = Capability.VIEW) -> Series:
    """The series, if the current user holds ``capability`` on it; 404 otherwise."""
    series = get_by_id(Series, series_id)
    if series is None or not may(current_user, capability, series):
        abort(404)
    return series


def webhook_endpoint_for(endpoint_id: int, capability: Capability = Capability.EDIT) -> WebhookEndpoint:
    """A webhook endpoint, if the current user holds ``capability`` on its webinar or series; 404
    otherwise. Endpoints carry secrets and personal data: managing one takes EDIT."""
    endpoint = get_by_id(WebhookEndpoint, endpoint_id)
    target = None if endpoint is None else endpoint.event or endpoint.series
    if endpoint is None or target is None or not may(current_user, capability, target):
        abort(404)
    return endpoint


M = TypeVar("M")


def part_of(event: Event, model: type[M], object_id: int) -> M:
    """A registration, message or email of ``event`` (loaded through event_for first); 404 if it
    does not exist or belongs to another webinar."""
    found = get_by_id(model, object_id)
    if found is None or getattr(found, "event_id", None) != event.id:
        abort(404)
    return found


def events_visible_to(user: User, capability: Capability = Capability.VIEW) -> Select[Event]:
    """A select() of the webinars ``user`` holds ``capability`` on."""
    query = select(Event)
    if user.is_admin:
        return query
    if Role.OWNER in ROLES_WITH[capability]:
        return query.where(Event.owner_id == user.id)
    return query.where(false())


def series_visible_to(user: User, capability: Capability = Capability.VIEW) -> Select[Series]:
    """A select() of the series ``user`` holds ``capability`` on."""
    query = select(Series)
    if user.is_admin:
        return query
    if Role.OWNER in ROLES_WITH[capability]:
        return query.join(series_owner).where(series_owner.c.user_id == user.id)
    return query.where(false())
