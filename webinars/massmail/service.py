"""Bulk sends: who they reach, how they look in each language, a test to oneself, the confirmation,
and the worker's fan-out into the outbox.

A send is a ``Broadcast`` row. Organizer messages and the recording email are stored unconfirmed
first (``confirmed_at`` None) so the organizer can look at them per language and send a test; the
worker expands only confirmed ones. A reschedule or cancellation is confirmed by the form that makes
it (the organizer saw the preview there), so its job is written confirmed, in the same transaction
as the change: a committed change always has its notifications, and the request writes one row
however many people are registered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, func, insert, or_, select

from .. import audit, clock
from ..database import writing
from ..extensions import db
from ..mail import notifications
from ..mail.outbox import Content, Envelope, enqueue
from ..models import (
    Audience,
    AuditAction,
    Broadcast,
    BroadcastRecipient,
    Event,
    MailKind,
    Registration,
    RegistrationStatus,
    User,
)
from ..rules import RuleError
from ..validators import text_errors

CHUNK = 500
# People a selection may still be written to: not those who cancelled or were turned down.
_SELECTABLE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING)


def audience_query(
    event_id: int, audience: Audience, *, kind: MailKind = MailKind.MESSAGE, broadcast_id: int | None = None
) -> Select[Registration]:
    """The registrations a send of ``kind`` to ``audience`` reaches. Bulk kinds leave out people who
    unsubscribed; an update or cancellation reaches them all the same (their calendar must follow)."""
    query = select(Registration).where(Registration.event_id == event_id)
    if kind in notifications.BULK_KINDS:
        query = query.where(Registration.unsubscribed_at.is_(None))
    match Audience(audience):
        case Audience.CONFIRMED:
            return query.where(Registration.status == RegistrationStatus.CONFIRMED)
        case Audience.WAITLISTED:
            return query.where(Registration.status == RegistrationStatus.WAITLISTED)
        case Audience.ATTENDED:
            return query.where(Registration.attended.is_(True))
        case Audience.ABSENT:
            return query.where(
                Registration.status == RegistrationStatus.CONFIRMED, Registration.attended.is_not(True)
            )
        case Audience.ALL:
            # Everyone with a place or a place in line; not people awaiting a decision or declined.
            return query.where(
                Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED))
            )
        case Audience.SELECTED:
            chosen = select(BroadcastRecipient.registration_id).where(
                BroadcastRecipient.broadcast_id == (broadcast_id or 0)
            )
            return query.where(Registration.id.in_(chosen), Registration.status.in_(_SELECTABLE))


def recipients(broadcast: Broadcast) -> Select[Registration]:
    query = audience_query(
        broadcast.event_id, broadcast.audience, kind=broadcast.kind, broadcast_id=broadcast.id
    )
    if broadcast.kind == MailKind.EVENT_UPDATED and broadcast.created_at is not None:
        # Someone confirmed after the change (a sign-up, or a promotion from the waitlist that the
        # change itself made) got an invitation with the new details already.
        query = query.where(
            or_(Registration.confirmed_at.is_(None), Registration.confirmed_at <= broadcast.created_at)
        )
    return query


def audience_size(event_id: int, audience: Audience, *, kind: MailKind = MailKind.MESSAGE) -> int:
    query = audience_query(event_id, audience, kind=kind)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def count(broadcast: Broadcast) -> int:
    return db.session.scalar(select(func.count()).select_from(recipients(broadcast).subquery())) or 0


@dataclass(frozen=True)
class Language:
    code: str
    recipients: int


def languages(broadcast: Broadcast) -> list[Language]:
    """Each language the send will go out in, with how many people read it, most readers first."""
    chosen = recipients(broadcast).subquery()
    rows = db.session.execute(
        select(chosen.c.locale, func.count())
        .group_by(chosen.c.locale)
        .order_by(func.count().desc(), chosen.c.locale)
    ).all()
    return [Language(code or "en", number) for code, number in rows]


def sample(broadcast: Broadcast, locale: str, *, name: str, email: str) -> Registration:
    """A stand-in recipient in ``locale``, never stored: like the first real one (status, zone,
    attendance, so the preview shows or hides the join link as they will see it) but with a name
    and address of the caller's choosing, and a manage link that opens nobody's registration."""
    first = db.session.scalars(
        recipients(broadcast).where(Registration.locale == locale).order_by(Registration.id).limit(1)
    ).first()
    return Registration(
        event_id=broadcast.event_id,
        event=db.session.get(Event, broadcast.event_id),
        email=email,
        name=name,
        token="preview",
        locale=locale,
        status=first.status if first else RegistrationStatus.CONFIRMED,
        timezone=first.timezone if first else None,
        confirmed_at=first.confirmed_at if first else clock.now(),
        attended=first.attended if first else None,
    )


def render(broadcast: Broadcast, locale: str, *, name: str | None = None, email: str = "") -> dict[str, Any]:
    """The send as a recipient reading ``locale`` gets it: subject, text and HTML bodies."""
    person = sample(broadcast, locale, name=name or _("Attendee"), email=email or "attendee@example.org")
    return notifications.render(person, broadcast.kind, broadcast=broadcast)


def send_test(broadcast: Broadcast, locale: str, user: User) -> None:
    """Email ``user`` the send as a recipient in ``locale`` gets it, marked as a test in its subject.
    It belongs to no send, so no progress or count includes it. Commits."""
    rendered = render(broadcast, locale, name=user.name, email=user.email)
    send_rendered_test(rendered, user, event_id=broadcast.event_id, kind=broadcast.kind, language=locale)


def send_rendered_test(
    rendered: dict[str, Any], user: User, *, event_id: int, kind: MailKind, language: str
) -> None:
    """Queue an already rendered message to ``user`` as a test (its bodies are kept: nothing is
    rendered again when it leaves, so it shows what was previewed). Commits."""
    with notifications.in_language(language):
        subject = _("[Test] %(subject)s", subject=rendered["subject"])
    with writing():
        enqueue(
            Envelope(
                kind=kind, recipient=user.email, recipient_name=user.name, subject=subject, event_id=event_id
            ),
            Content(
                body_text=rendered["body_text"],
                body_html=rendered["body_html"],
                ics_method=rendered["ics_method"],
                ics=rendered["ics"],
                unsubscribe_url=rendered["unsubscribe_url"],
            ),
        )
        db.session.commit()


def language_name(code: str) -> str:
    """'Español', 'português' … in the language of the page."""
    try:
        return Locale.parse(code).get_display_name(str(get_locale() or "en")) or code
    except (ValueError, UnknownLocaleError):
        return code


def check_text(subject: str, body_md: str) -> None:
    """Subjects become mail headers: no line breaks or control characters; bodies none either."""
    errors = text_errors(one_line={"subject": subject}, multiline={"body": body_md})
    if errors:
        raise RuleError(errors)


def draft(
    event: Event,
    author: User | None,
    *,
    kind: MailKind,
    audience: Audience,
    subject: str = "",
    body_md: str = "",
    registration_ids: Iterable[int] = (),
) -> Broadcast:
    """A send waiting for its confirmation; ``registration_ids`` are the people of a selection.
    Commits."""
    check_text(subject, body_md)
    with writing():
        broadcast = Broadcast(
            event_id=event.id,
            author_id=author.id if author else None,
            kind=kind,
            audience=Audience(audience),
            subject=subject.strip(),
            body_md=body_md,
            total=0,
        )
        db.session.add(broadcast)
        db.session.flush()
        chosen = sorted(set(registration_ids))
        if chosen:
            db.session.execute(
                insert(BroadcastRecipient),
                [{"broadcast_id": broadcast.id, "registration_id": i} for i in chosen],
            )
        db.session.commit()
    return broadcast


def revise(broadcast: Broadcast, *, audience: Audience | None, subject: str, body_md: str) -> None:
    """Change a send that is not confirmed yet (a selection keeps its people). Commits."""
    check_text(subject, body_md)
    with writing():
        if broadcast.confirmed_at is not None:
            raise RuleError.on("subject", _("This message was already sent."))
        if audience is not None and broadcast.audience != Audience.SELECTED:
            broadcast.audience = Audience(audience)
        broadcast.subject = subject.strip()
        broadcast.body_md = body_md
        db.session.commit()


_AUDITED_SENDS = {MailKind.MESSAGE: AuditAction.MESSAGE_SENT, MailKind.RECORDING: AuditAction.RECORDING_SENT}


def _missing(broadcast: Broadcast) -> Event:
    raise LookupError(f"broadcast {broadcast.id} belongs to no webinar")


def confirm(broadcast: Broadcast, expected: int | None) -> None:
    """Let the worker send it. ``expected`` is the number of people the button promised: if the
    audience changed since the preview, nothing is sent and RuleError says the new number, so a
    confirmation never covers more people than the organizer saw. Confirming twice sends once.
    Commits."""
    with writing():
        confirm_in_transaction(broadcast, expected)
        db.session.commit()


def confirm_in_transaction(broadcast: Broadcast, expected: int | None = None) -> None:
    """confirm() inside the caller's transaction (a cancellation confirms its notice with the change)."""
    if broadcast.confirmed_at is not None:
        return
    total = count(broadcast)
    if expected is not None and expected != total:
        raise RuleError.on(
            "confirm",
            _(
                "The recipients changed since the preview: it now goes to %(num)s. Check and confirm again.",
                num=total,
            ),
        )
    broadcast.total = total
    broadcast.confirmed_at = clock.now()
    # The audit log names the send when it is confirmed, the moment mail becomes inevitable; the
    # worker's fan-out that follows is not anyone's act.
    if broadcast.kind in _AUDITED_SENDS:
        audit.record(
            db.session.get(Event, broadcast.event_id) or _missing(broadcast),
            _AUDITED_SENDS[broadcast.kind],
            f"{broadcast.subject} ({broadcast.audience}, {total})",
            actor=db.session.get(User, broadcast.author_id) if broadcast.author_id else None,
        )


def fan_out(
    event: Event,
    kind: MailKind,
    audience: Audience,
    *,
    previous_starts_at: datetime | None = None,
    previous_join_url: str | None = None,
) -> Broadcast:
    """A confirmed send of ``kind`` to ``audience``, in the caller's transaction (no commit): one row
    now, the per-person outbox rows later, from the worker."""
    now = clock.now()
    broadcast = Broadcast(
        event_id=event.id,
        kind=kind,
        audience=audience,
        subject="",
        body_md="",
        total=0,
        created_at=now,
        confirmed_at=now,
        previous_starts_at=previous_starts_at,
        previous_join_url=previous_join_url,
    )
    db.session.add(broadcast)
    return broadcast


def expand_pending() -> int:
    """Turn the next chunk of each confirmed, unfinished send into outbox rows. Returns how many rows
    were added. Each chunk and the mark of how far it got commit together, so a worker that dies
    half way leaves nothing doubled and nothing lost."""
    added = 0
    with writing():
        broadcasts = db.session.scalars(
            select(Broadcast)
            .where(Broadcast.expanded_at.is_(None), Broadcast.confirmed_at.is_not(None))
            .order_by(Broadcast.id)
            .with_for_update(skip_locked=True)
        ).all()
        for broadcast in broadcasts:
            query = recipients(broadcast).order_by(Registration.id).limit(CHUNK)
            if broadcast.expanded_through is not None:
                query = query.where(Registration.id > broadcast.expanded_through)
            chunk = db.session.scalars(query).all()
            for registration in chunk:
                notifications.send(registration, broadcast.kind, broadcast=broadcast)
            if chunk:
                broadcast.expanded_through = chunk[-1].id
                added += len(chunk)
            if len(chunk) < CHUNK:
                broadcast.expanded_at = clock.now()
        db.session.commit()
    return added
