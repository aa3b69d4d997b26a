"""What people read for each member of the enums, in their language.

One mapping per enum, used by every page, export, report and email that shows a status or a kind to a
person; the stored values (and the API, which speaks to programs) stay the machine spelling. Adding a
member to an enum without a label here fails ``tests/test_labels.py`` rather than showing
``registration_confirmed`` to an organizer in Portuguese.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from .audit import LABELS as AUDIT_ACTIONS
from .models import (
    Audience,
    AuditAction,
    EventKind,
    EventPhase,
    EventStatus,
    MailKind,
    OutboxStatus,
    QuestionKind,
    RegistrationStatus,
    RelayState,
    TeamRole,
    TokenScope,
    WebhookEventType,
)

LABELS: dict[type[StrEnum], dict[StrEnum, LazyString]] = {
    EventStatus: {
        EventStatus.DRAFT: _l("Draft"),
        EventStatus.PUBLISHED: _l("Published"),
        EventStatus.CANCELLED: _l("Cancelled"),
    },
    EventKind: {
        EventKind.WEBINAR: _l("Webinar"),
        EventKind.ARCHIVE: _l("Archive entry"),
    },
    EventPhase: {
        EventPhase.UPCOMING: _l("Upcoming"),
        EventPhase.LIVE: _l("Live now"),
        EventPhase.PAST: _l("Ended"),
    },
    RegistrationStatus: {
        RegistrationStatus.CONFIRMED: _l("Confirmed"),
        RegistrationStatus.WAITLISTED: _l("Waitlisted"),
        RegistrationStatus.CANCELLED: _l("Cancelled"),
        RegistrationStatus.PENDING: _l("Awaiting approval"),
        RegistrationStatus.REJECTED: _l("Declined"),
    },
    QuestionKind: {
        QuestionKind.SHORT_TEXT: _l("Short text"),
        QuestionKind.LONG_TEXT: _l("Long text"),
        QuestionKind.SINGLE_CHOICE: _l("Single choice"),
        QuestionKind.MULTIPLE_CHOICE: _l("Multiple choice"),
        QuestionKind.CHECKBOX: _l("Checkbox"),
        QuestionKind.COUNTRY: _l("Country"),
        QuestionKind.REFERRAL: _l("How did you hear about us?"),
    },
    OutboxStatus: {
        OutboxStatus.QUEUED: _l("Queued"),
        OutboxStatus.SENDING: _l("Sending"),
        OutboxStatus.SENT: _l("Sent"),
        OutboxStatus.FAILED: _l("Failed"),
        OutboxStatus.WITHHELD: _l("Withheld"),
    },
    RelayState: {
        RelayState.UP: _l("Available"),
        RelayState.DOWN: _l("Unavailable"),
    },
    MailKind: {
        MailKind.REGISTRATION_CONFIRMED: _l("Registration confirmed"),
        MailKind.WAITLISTED: _l("Placed on the waitlist"),
        MailKind.PROMOTED: _l("Seat from the waitlist"),
        MailKind.REGISTRATION_CANCELLED: _l("Registration cancelled"),
        MailKind.EVENT_UPDATED: _l("Webinar updated"),
        MailKind.EVENT_CANCELLED: _l("Webinar cancelled"),
        MailKind.INVITE_RESENT: _l("Invitation sent again"),
        MailKind.REMINDER: _l("Reminder"),
        MailKind.MESSAGE: _l("Organizer message"),
        MailKind.RECORDING: _l("Recording"),
        MailKind.MANAGE_LINK: _l("Link to the registration"),
        MailKind.REGISTRATION_PENDING: _l("Request received"),
        MailKind.REGISTRATION_DECLINED: _l("Request declined"),
        MailKind.PASSWORD_RESET: _l("Password reset"),
        MailKind.TEST: _l("Test email"),
        MailKind.TEAM_INVITATION: _l("Team invitation"),
        MailKind.ACCOUNT_INVITATION: _l("Organizer invitation"),
    },
    Audience: {
        Audience.CONFIRMED: _l("Confirmed attendees"),
        Audience.WAITLISTED: _l("People on the waitlist"),
        Audience.ALL: _l("Everyone registered (confirmed and waitlisted)"),
        Audience.ATTENDED: _l("Those marked as attended"),
        Audience.ABSENT: _l("Confirmed attendees not marked as attended"),
        Audience.SELECTED: _l("The people you selected"),
    },
    TeamRole: {
        TeamRole.OWNER: _l("Owner"),
        TeamRole.EDITOR: _l("Editor"),
        TeamRole.VIEWER: _l("Viewer"),
    },
    # The audit log's own wording, kept beside the service that writes the entries.
    AuditAction: {action: text for action, text in AUDIT_ACTIONS.items()},
    # Each names the payload's ``type`` too: the people who read it are wiring up another system.
    WebhookEventType: {
        WebhookEventType.REGISTRATION_CREATED: _l("Someone registered (registration.created)"),
        WebhookEventType.REGISTRATION_CANCELLED: _l(
            "A registration was cancelled or declined (registration.cancelled)"
        ),
        WebhookEventType.REGISTRATION_PROMOTED: _l(
            "Someone got a seat from the waitlist or by approval (registration.promoted)"
        ),
        WebhookEventType.WEBINAR_PUBLISHED: _l("The webinar was published (webinar.published)"),
        WebhookEventType.WEBINAR_UPDATED: _l("The webinar was changed (webinar.updated)"),
        WebhookEventType.WEBINAR_CANCELLED: _l("The webinar was cancelled (webinar.cancelled)"),
        WebhookEventType.TEST: _l("A test event (webhook.test)"),
    },
    TokenScope: {
        TokenScope.READ: _l("Read"),
        TokenScope.WRITE: _l("Read and write"),
    },
}

# A bare string (a value read back from a URL or a chart row) is looked up among the statuses in this
# order; "cancelled" reads the same for a webinar and a registration.
_STATUS_ENUMS: tuple[type[StrEnum], ...] = (RegistrationStatus, EventStatus, OutboxStatus)

# Question kinds, as the question form and list show them.
QUESTION_KINDS = LABELS[QuestionKind]
AUDIENCES = LABELS[Audience]


def label(value: StrEnum | str) -> str:
    """The member's label in the current language; a value that names no member is shown as given."""
    if isinstance(value, StrEnum):
        return str(LABELS[type(value)][value])
    for enum in _STATUS_ENUMS:
        if value in set(enum):
            return str(LABELS[enum][enum(value)])
    return str(value)


def yes_no(value: bool | None) -> str:
    """A yes/no column (attended) as the reader says it; empty when nobody recorded it."""
    if value is None:
        return ""
    return str(_l("Yes") if value else _l("No"))
