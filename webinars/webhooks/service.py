"""Webhook endpoints and the events written for them.

The domains that change registrations and webinars call ``emit`` inside their own transaction, the
way they call ``mail.notifications.send``: a committed change always has its deliveries and a rolled
back one has none. The payload is written then, as the change left things, so a receiver learns
what happened in the order it happened, even when a delivery waits for retries. The worker delivers
(see ``delivery``).

Which events exist and what their payloads hold is the README's "Webhooks" section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select, update

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import (
    Event,
    OutboxStatus,
    Registration,
    Series,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from ..rules import RuleError
from ..text import has_control_characters
from ..urls import external_url
from . import addresses, signing

# Everything an organizer can subscribe to (the test event is sent on request only).
SUBSCRIBABLE = tuple(kind for kind in WebhookEventType if kind != WebhookEventType.TEST)
# After a rotation the previous secret keeps signing this long, beside the new one.
ROTATION_OVERLAP = timedelta(hours=24)
MAX_DESCRIPTION = 200


@dataclass
class EndpointData:
    url: str
    event_types: list[str] = field(default_factory=list)
    description: str = ""


def _checked(data: EndpointData) -> tuple[str, list[WebhookEventType], str]:
    errors: dict[str, str] = {}
    url = (data.url or "").strip()
    try:
        addresses.resolve(url)
    except addresses.RefusedAddress as refused:
        errors["url"] = str(refused)
    kinds: list[WebhookEventType] = []
    for value in data.event_types:
        try:
            kind = WebhookEventType(value)
        except ValueError:
            kind = None
        if kind is None or kind not in SUBSCRIBABLE:
            errors["event_types"] = str(_l("Choose among the events listed."))
        elif kind not in kinds:
            kinds.append(kind)
    if not kinds and "event_types" not in errors:
        errors["event_types"] = str(_l("Choose at least one event."))
    description = " ".join((data.description or "").split())
    if has_control_characters(data.description) or len(description) > MAX_DESCRIPTION:
        errors["description"] = str(_l("A short description on one line, at most 200 characters."))
    if errors:
        raise RuleError(errors)
    return url, sorted(kinds, key=SUBSCRIBABLE.index), description


def create_endpoint(target: Event | Series, data: EndpointData, author: User) -> WebhookEndpoint:
    """A new endpoint for a webinar or a series, with its own secret. Commits."""
    url, kinds, description = _checked(data)
    with writing():
        endpoint = WebhookEndpoint(
            event_id=target.id if isinstance(target, Event) else None,
            series_id=target.id if isinstance(target, Series) else None,
            url=url,
            description=description,
            event_types=",".join(kinds),
            secret=signing.new_secret(),
            active=True,
            created_by_id=author.id,
        )
        db.session.add(endpoint)
        db.session.commit()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, data: EndpointData) -> None:
    """Change the URL, the events or the description. Commits."""
    url, kinds, description = _checked(data)
    with writing():
        endpoint.url = url
        endpoint.event_types = ",".join(kinds)
        endpoint.description = description
        db.session.commit()


def rotate_secret(endpoint: WebhookEndpoint) -> None:
    """A new secret at once; the previous one also signs for a day, so the receiver can switch over
    without refusing anything meanwhile. Commits."""
    with writing():
        endpoint.previous_secret = endpoint.secret
        endpoint.secret = signing.new_secret()
        endpoint.secret_rotated_at = clock.now()
        db.session.commit()


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    now = now or clock.now()
    in_use = [endpoint.secret]
    rotated = endpoint.secret_rotated_at
    if endpoint.previous_secret and rotated is not None and now < rotated + ROTATION_OVERLAP:
        in_use.append(endpoint.previous_secret)
    return in_use


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """Pause or resume deliveries. While paused nothing is written for the endpoint, and what was
    waiting is withheld. Commits."""
    with writing():
        endpoint.active = active
        endpoint.disabled_reason = "" if active else str(_l("Paused by an organizer."))
        db.session.commit()


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its delivery log. Commits."""
    with writing():
        db.session.delete(endpoint)
        db.session.commit()


def disable_gone(endpoint_id: int, reason: str) -> None:
    """The receiver said 410 Gone: stop writing deliveries for it. Does not commit."""
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(active=False, disabled_reason=reason[:2000])
        .execution_options(synchronize_session=False)
    )


def endpoints_of(target: Event | Series) -> list[WebhookEndpoint]:
    column = WebhookEndpoint.event_id if isinstance(target, Event) else WebhookEndpoint.series_id
    return list(
        db.session.scalars(select(WebhookEndpoint).where(column == target.id).order_by(WebhookEndpoint.id))
    )


def deliveries(endpoint: WebhookEndpoint) -> Select[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
    )


# --- writing deliveries -----------------------------------------------------------------------------


def _instant(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def webinar_data(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "slug": event.slug,
        "title": event.title,
        "status": event.status.value,
        "starts_at": _instant(event.starts_at),
        "ends_at": _instant(event.ends_at),
        "timezone": event.timezone,
        "capacity": event.capacity,
        "seats_taken": event.seats_taken,
        "sequence": event.sequence,
        "series": event.series.slug if event.series else None,
        "number": event.number,
        "url": external_url("events.detail", slug=event.slug),
    }


def registration_data(registration: Registration) -> dict[str, Any]:
    return {
        "id": registration.id,
        "status": registration.status.value,
        "email": registration.email,
        "name": registration.name,
        "organisation": registration.organisation,
        "locale": registration.locale,
        "timezone": registration.timezone,
        "created_at": _instant(registration.created_at),
        "confirmed_at": _instant(registration.confirmed_at),
        "cancelled_at": _instant(registration.cancelled_at),
        "answers": [
            {
                "question_id": answer.question_id,
                "question": answer.question_label,
                "kind": answer.kind.value,
                "value": answer.value,
            }
            for answer in registration.answers
        ],
    }


def _body(event_type: WebhookEventType, data: dict[str, Any]) -> str:
    document = {"type": event_type.value, "timestamp": _instant(clock.now()), "data": data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _add(endpoint_id: int, event_type: WebhookEventType, body: str, registration_id: int | None) -> None:
    db.session.add(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            registration_id=registration_id,
            message_id=signing.new_message_id(),
            event_type=event_type,
            payload=body,
            status=OutboxStatus.QUEUED,
            attempts=0,
            next_attempt_at=clock.now(),
        )
    )


def listening(event_type: WebhookEventType, event: Event) -> list[WebhookEndpoint]:
    """The active endpoints of ``event`` (and of its series) that listen to ``event_type``."""
    if event.has_webhook_endpoints is False:  # known from the query that loaded the webinar
        return []
    scope = WebhookEndpoint.event_id == event.id
    if event.series_id is not None:
        scope = or_(scope, WebhookEndpoint.series_id == event.series_id)
    return [
        endpoint
        for endpoint in db.session.scalars(
            select(WebhookEndpoint)
            .where(scope, WebhookEndpoint.active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
        if event_type in endpoint.event_type_list
    ]


def emit(
    event_type: WebhookEventType,
    event: Event,
    registration: Registration | None = None,
    *,
    endpoints: list[WebhookEndpoint] | None = None,
) -> int:
    """Write a delivery for every active endpoint of ``event`` (and of its series) that listens to
    ``event_type``, in the caller's transaction. Returns how many. Does not commit.

    ``endpoints``, from ``listening()`` earlier in the transaction, spares the query: the sign-up looks
    them up before it locks the webinar's row, and writes the deliveries once the seat is decided."""
    listening_now = listening(event_type, event) if endpoints is None else endpoints
    if not listening_now:
        return 0
    data: dict[str, Any] = {"webinar": webinar_data(event)}
    if registration is not None:
        data["registration"] = registration_data(registration)
    body = _body(event_type, data)
    for endpoint in listening_now:
        _add(endpoint.id, event_type, body, registration.id if registration else None)
    return len(listening_now)


def send_test(endpoint: WebhookEndpoint) -> None:
    """Queue a ``webhook.test`` event for this endpoint (paused or not: testing is how one finds out
    whether to resume it). The worker delivers it like any other. Commits."""
    target = endpoint.event or endpoint.series
    data: dict[str, Any] = {"endpoint_id": endpoint.id}
    if isinstance(target, Event):
        data["webinar"] = webinar_data(target)
    elif target is not None:
        data["series"] = {"id": target.id, "slug": target.slug, "title": target.title}
    with writing():
        _add(endpoint.id, WebhookEventType.TEST, _body(WebhookEventType.TEST, data), None)
        db.session.commit()


def forget_registrations(registration_ids: list[int]) -> None:
    """Erasure: the payloads that named these people keep only the event's type and the webinar;
    those not delivered yet are dropped. Does not commit."""
    db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.registration_id.in_(registration_ids),
            WebhookDelivery.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)),
        )
        .values(
            status=OutboxStatus.WITHHELD,
            last_error="withheld: the person's data was erased",
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.registration_id.in_(registration_ids))
        .values(payload='{"erased":true}', registration_id=None)
        .execution_options(synchronize_session=False)
    )
