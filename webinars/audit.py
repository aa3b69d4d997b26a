"""The audit log: who changed what on a webinar (or series), and when.

Services call ``record`` beside the change itself, inside its transaction and before its commit, so
the log holds exactly the changes that happened. The actor is whoever the request acts for: the
signed-in organizer on a page, the token's owner in the API (``g.api_user``); the command line and
the worker act for nobody and are logged without a name.
"""

from __future__ import annotations

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select

from .extensions import db
from .models import AuditAction, AuditEntry, Event, Series, User
from .text import single_line

DETAIL_MAX = 500

LABELS = {
    AuditAction.CREATED: _l("Created"),
    AuditAction.EDITED: _l("Edited"),
    AuditAction.RESCHEDULED: _l("Rescheduled"),
    AuditAction.PUBLISHED: _l("Published"),
    AuditAction.UNPUBLISHED: _l("Unpublished"),
    AuditAction.CANCELLED: _l("Cancelled"),
    AuditAction.APPROVED: _l("Registrations approved"),
    AuditAction.DECLINED: _l("Registrations declined"),
    AuditAction.REGISTRATIONS_CANCELLED: _l("Registrations cancelled"),
    AuditAction.PROMOTED: _l("Moved from the waitlist"),
    AuditAction.PERSON_ADDED: _l("Person added by hand"),
    AuditAction.PERSON_ERASED: _l("Person's data erased"),
    AuditAction.EXPORTED: _l("Registrations exported"),
    AuditAction.MESSAGE_SENT: _l("Message sent"),
    AuditAction.RECORDING_SAVED: _l("Recording saved"),
    AuditAction.RECORDING_SENT: _l("Recording email sent"),
    AuditAction.ATTENDANCE_IMPORTED: _l("Attendance imported"),
    AuditAction.TEAM_INVITED: _l("Team invitation sent"),
    AuditAction.TEAM_JOINED: _l("Joined the team"),
    AuditAction.TEAM_ROLE_CHANGED: _l("Team role changed"),
    AuditAction.TEAM_REMOVED: _l("Removed from the team"),
    AuditAction.TEAM_INVITATION_REVOKED: _l("Team invitation revoked"),
    AuditAction.OWNER_CHANGED: _l("Owner changed"),
}


def acting_user() -> User | None:
    """The account the current request acts for, if any."""
    if not has_request_context():
        return None
    api_user = g.get("api_user")
    if isinstance(api_user, User):
        return api_user
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()
        return user
    return None


def record(
    target: Event | Series,
    action: AuditAction,
    detail: str = "",
    *,
    actor: User | None = None,
) -> AuditEntry:
    """Add one entry to ``target``'s log in the caller's transaction (the caller commits)."""
    who = actor or acting_user()
    entry = AuditEntry(
        event_id=target.id if isinstance(target, Event) else None,
        series_id=target.id if isinstance(target, Series) else None,
        actor_id=who.id if who is not None else None,
        actor_name=who.name if who is not None else "",
        action=action,
        # Details quote what people typed (titles, addresses): one clean line, bounded.
        detail=single_line(detail)[:DETAIL_MAX],
    )
    db.session.add(entry)
    return entry


def entries(target: Event | Series) -> Select[AuditEntry]:
    """A select() of ``target``'s log, newest first, for a paginated page."""
    column = AuditEntry.event_id if isinstance(target, Event) else AuditEntry.series_id
    return (
        select(AuditEntry)
        .where(column == target.id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
