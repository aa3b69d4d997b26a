"""All tables, in SQLAlchemy 2.0 typed style."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

from flask_login import UserMixin
from natsort import natsort_keygen, ns
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import event as sa_event
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .database import UTCDateTime
from .extensions import Model, db

DEFAULT_REMINDER_OFFSETS = "1440,60"
DEFAULT_DURATION_MINUTES = 60
# "SDG 9" before "SDG 11", case and accents aside: how people expect a list of topics to read.
natural_key = natsort_keygen(alg=ns.IGNORECASE)


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class EventKind(StrEnum):
    """A webinar people register for, or an entry in the archive for one that happened before."""

    WEBINAR = "webinar"
    ARCHIVE = "archive"


class EventPhase(StrEnum):
    """Where a published webinar is in its life, by the clock: never stored, always computed."""

    UPCOMING = "upcoming"
    LIVE = "live"
    PAST = "past"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    # Approval mode: waiting for the organizer (no seat taken), and turned down by them.
    PENDING = "pending"
    REJECTED = "rejected"


class QuestionKind(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    CHECKBOX = "checkbox"
    COUNTRY = "country"
    REFERRAL = "referral"


# Answers to these are picked from a list, never typed: they say nothing about who gave them, so they
# outlive the purge of personal data and keep the reports whole.
CHOICE_KINDS = frozenset(
    {
        QuestionKind.SINGLE_CHOICE,
        QuestionKind.MULTIPLE_CHOICE,
        QuestionKind.CHECKBOX,
        QuestionKind.COUNTRY,
        QuestionKind.REFERRAL,
    }
)


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Not sent on purpose, with the reason in last_error: its moment passed (a reminder after the start).
    WITHHELD = "withheld"


class RelayState(StrEnum):
    """How the mail relay answered the last worker that tried it."""

    UP = "up"
    DOWN = "down"


class MailKind(StrEnum):
    """What an email is about; each kind has its templates in templates/emails/<kind>.{txt,html}."""

    REGISTRATION_CONFIRMED = "registration_confirmed"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    REGISTRATION_CANCELLED = "registration_cancelled"
    EVENT_UPDATED = "event_updated"
    EVENT_CANCELLED = "event_cancelled"
    INVITE_RESENT = "invite_resent"
    REMINDER = "reminder"
    MESSAGE = "message"
    RECORDING = "recording"
    MANAGE_LINK = "manage_link"  # the link to one's registration page, asked for again
    REGISTRATION_PENDING = "registration_pending"  # approval mode: the request was received
    REGISTRATION_DECLINED = "registration_declined"
    PASSWORD_RESET = "password_reset"  # to an organizer account; rendered when queued
    # Rendered when queued too: an invitation to join a webinar's or series' team, or to open an
    # organizer account.
    TEAM_INVITATION = "team_invitation"
    ACCOUNT_INVITATION = "account_invitation"
    TEST = "test"  # `flask check --send-test`: proves the worker delivers

    @property
    def lane(self) -> MailLane:
        """Which lane of the outbox this kind travels in."""
        return MailLane.BULK if self in _BULK_LANE_KINDS else MailLane.TRANSACTIONAL


class MailLane(IntEnum):
    """The outbox's lanes, in the order the worker claims them: a lower lane always goes first.

    Someone waiting for their confirmation or a password link is waiting now; a reminder or an
    organizer's message to ten thousand people can take the minutes its size needs. Stored as the
    number, so the claim query orders by it and one index serves both lanes.
    """

    TRANSACTIONAL = 0
    BULK = 1


# Mail sent to many people at once because of a schedule or an organizer's send, not because of
# something the recipient just did.
_BULK_LANE_KINDS = frozenset({MailKind.REMINDER, MailKind.MESSAGE, MailKind.RECORDING})


class Audience(StrEnum):
    """Whom an organizer's message goes to, among the people registered for a webinar."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ALL = "all"  # confirmed and waitlisted
    ATTENDED = "attended"
    ABSENT = "absent"  # confirmed but not marked as attended
    SELECTED = "selected"  # the people ticked on the attendee list (BroadcastRecipient rows)


def stored_as_string(enum: type[StrEnum], length: int) -> Enum:
    """A column holding an enum's values as plain strings (VARCHAR), read back as enum members.

    No native ENUM type and no CHECK constraint: adding a member (a new status or mail kind) then
    needs no migration, and one that does not exist is still refused, by SQLAlchemy on the way in
    and on the way out.
    """
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class TeamRole(StrEnum):
    """A person's role on a webinar or series; permissions.CAPABILITIES says what each may do."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class AuditAction(StrEnum):
    """What an entry of a webinar's audit log records."""

    CREATED = "created"
    EDITED = "edited"
    RESCHEDULED = "rescheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    CANCELLED = "cancelled"
    APPROVED = "approved"
    DECLINED = "declined"
    REGISTRATIONS_CANCELLED = "registrations_cancelled"
    PROMOTED = "promoted"
    PERSON_ADDED = "person_added"
    PERSON_ERASED = "person_erased"
    EXPORTED = "exported"
    MESSAGE_SENT = "message_sent"
    RECORDING_SAVED = "recording_saved"
    RECORDING_SENT = "recording_sent"
    ATTENDANCE_IMPORTED = "attendance_imported"
    TEAM_INVITED = "team_invited"
    TEAM_JOINED = "team_joined"
    TEAM_ROLE_CHANGED = "team_role_changed"
    TEAM_REMOVED = "team_removed"
    TEAM_INVITATION_REVOKED = "team_invitation_revoked"
    OWNER_CHANGED = "owner_changed"


class WebhookEventType(StrEnum):
    """What a webhook tells its endpoint about; the value is the payload's ``type``."""

    REGISTRATION_CREATED = "registration.created"
    REGISTRATION_CANCELLED = "registration.cancelled"
    REGISTRATION_PROMOTED = "registration.promoted"
    WEBINAR_PUBLISHED = "webinar.published"
    WEBINAR_UPDATED = "webinar.updated"
    WEBINAR_CANCELLED = "webinar.cancelled"
    # Sent by the "send test event" button only: nobody subscribes to it.
    TEST = "webhook.test"


class TokenScope(StrEnum):
    """What a personal API token may do: ``write`` includes ``read``."""

    READ = "read"
    WRITE = "write"


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # An administrator can disable an account; it keeps its webinars but can no longer sign in.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Part of every session and remember-me cookie: raising it ends all of them at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @classmethod
    def from_session_id(cls, session_id: str) -> User | None:
        """The account a session or remember-me cookie names, if that cookie has not been ended."""
        user_id, _, version = session_id.partition(":")
        if not (user_id.isdigit() and version.isdigit()) or int(user_id) > 2**31 - 1:
            return None
        user = db.session.get(cls, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user

    def end_sessions(self) -> None:
        self.session_version += 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


series_owner = Table(
    "series_owner",
    db.metadata,
    Column("series_id", ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)

event_tag = Table(
    "event_tag",
    db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class TeamMember(Model):
    """A role granted to an account on one webinar or one series (whose webinars it then covers).

    The owner of a webinar is ``Event.owner`` and the owners of a series are ``Series.owners``; this
    table holds the roles granted besides them (editor, viewer).
    """

    __tablename__ = "team_member"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id"),
        UniqueConstraint("user_id", "series_id"),
        CheckConstraint("(event_id IS NULL) <> (series_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole] = mapped_column(stored_as_string(TeamRole, 16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship()


class Invitation(Model):
    """An emailed invitation: to a webinar's or series' team (with a role), or, with neither, to open
    an organizer account. The link names the row and its ``nonce``; a resend draws a new nonce (the
    old link stops working), and accepting or revoking ends it for good."""

    __tablename__ = "invitation"
    __table_args__ = (CheckConstraint("event_id IS NULL OR series_id IS NULL", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    role: Mapped[TeamRole | None] = mapped_column(stored_as_string(TeamRole, 16))
    # Account invitations only: the new organizer becomes an administrator.
    make_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invited_by: Mapped[User | None] = relationship()
    event: Mapped[Event | None] = relationship()
    series: Mapped[Series | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class AuditEntry(Model):
    """One line of a webinar's (or series') audit log: who did what, and when. Written by the services
    in the transaction of the change itself, so a rolled-back change leaves no entry."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_event_created", "event_id", "created_at"),
        Index("ix_audit_entry_series_created", "series_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    # The account that acted (None: the command line or the worker); its name is kept beside it so
    # the log still reads after the account is removed.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[AuditAction] = mapped_column(stored_as_string(AuditAction, 32))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ApiToken(Model):
    """A personal API token. Only a SHA-256 digest of the secret is kept: the secret is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The first characters of the secret, so the owner can tell tokens apart; not enough to use one.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(stored_as_string(TokenScope, 8), default=TokenScope.READ)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE


class Image(Model):
    """An uploaded picture, kept re-encoded at a few widths (see images/processing.py).

    The key is random and a new upload gets a new key, so a file's address never changes content and
    can be cached for a year."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    # The widths stored, comma-separated and rising ("320,640,1280").
    widths: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def width_list(self) -> list[int]:
        return [int(width) for width in self.widths.split(",") if width]

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


class Series(Model):
    """A numbered programme of webinars ("Webinar #16"), with its own page and calendar feed."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description_md: Mapped[str] = mapped_column(Text, default="")
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    cover_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The language its title and description are written in (a BCP 47 code): new webinars of the
    # series start in it.
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    cover: Mapped[Image | None] = relationship()
    owners: Mapped[list[User]] = relationship(secondary=series_owner, order_by="User.name")
    events: Mapped[list[Event]] = relationship(back_populates="series")


class Tag(Model):
    """A topic (for example one of the Sustainable Development Goals) to filter the archive by."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(90), unique=True)
    # On the administrator's list of topics offered in every webinar form.
    suggested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The name in the other languages of the site; empty shows ``name``.
    name_es: Mapped[str] = mapped_column(String(80), default="", server_default="")
    name_pt: Mapped[str] = mapped_column(String(80), default="", server_default="")

    def label(self, language: str) -> str:
        """The name to show to a reader of ``language``."""
        translated = {"es": self.name_es, "pt": self.name_pt}.get(language[:2], "")
        return translated or self.name


class Event(Model):
    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("series_id", "number"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        Index("ix_event_status_starts_at", "status", "starts_at"),
        Index("ix_event_status_ends_at", "status", "ends_at"),
        CheckConstraint(
            "attendance_reported IS NULL OR attendance_reported >= 0", name="attendance_not_negative"
        ),
        CheckConstraint(
            "registrations_reported IS NULL OR registrations_reported >= 0", name="registrations_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    summary: Mapped[str] = mapped_column(String(500), default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_DURATION_MINUTES)
    # Stored beside the start so "live" and "past" are plain comparisons in SQL on every database;
    # kept equal to starts_at + duration_minutes by _keep_ends_at below.
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[EventKind] = mapped_column(
        stored_as_string(EventKind, 16), default=EventKind.WEBINAR, server_default=EventKind.WEBINAR.value
    )
    timezone: Mapped[str] = mapped_column(String(64))
    join_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[EventStatus] = mapped_column(stored_as_string(EventStatus, 16), default=EventStatus.DRAFT)
    # iCalendar identity: the UID never changes, SEQUENCE rises with every significant change.
    ical_uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Minutes before the start, comma-separated ("1440,60"); empty switches reminders off.
    reminder_offsets: Mapped[str] = mapped_column(String(100), default=DEFAULT_REMINDER_OFFSETS)
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    recording_summary: Mapped[str] = mapped_column(Text, default="")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    # Figures an organizer reports for an archive entry (none were registered here); None: not known.
    registrations_reported: Mapped[int | None] = mapped_column(Integer)
    attendance_reported: Mapped[int | None] = mapped_column(Integer)
    # Origins ("https://example.org"), one a line, whose pages may frame the embeddable sign-up form.
    embed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Sign-ups wait as "pending", without a seat, until the organizer approves or declines them.
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Imported participant reports mark someone "attended" from this many minutes on.
    attendance_minimum_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # Set once the retention purge has replaced the personal data of this webinar's registrations.
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    cover_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The start before the latest move of a published webinar: search engines show "rescheduled".
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the webinar is held in, and its title, description and speakers' text written in
    # (a BCP 47 code); pages mark that text with it, whatever language the page itself is in.
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    # Loaded only by the sign-up's own query (events.queries.public_by_slug): whether an active webhook
    # endpoint of this webinar or its series exists. A sign-up nobody listens to (nearly all) then
    # skips the endpoint query; None, as on any other load, means "not known, ask".
    has_webhook_endpoints: Mapped[bool | None] = query_expression()

    owner: Mapped[User] = relationship()
    cover: Mapped[Image | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="event", order_by="Speaker.position", cascade="all, delete-orphan"
    )
    series: Mapped[Series | None] = relationship(back_populates="events")
    tags: Mapped[list[Tag]] = relationship(secondary="event_tag", order_by="Tag.name")
    questions: Mapped[list[Question]] = relationship(
        back_populates="event", order_by="Question.position, Question.id", cascade="all, delete-orphan"
    )

    @property
    def active_questions(self) -> list[Question]:
        return [question for question in self.questions if question.removed_at is None]

    @property
    def embed_origin_list(self) -> list[str]:
        return [line.strip() for line in (self.embed_origins or "").splitlines() if line.strip()]

    @property
    def reminder_minutes(self) -> list[int]:
        return Event.minutes_of(self.reminder_offsets)

    @staticmethod
    def minutes_of(reminder_offsets: str) -> list[int]:
        """The offsets of a ``reminder_offsets`` value, largest first (for a row read as columns)."""
        return sorted({int(part) for part in reminder_offsets.split(",") if part.strip()}, reverse=True)

    @validates("starts_at", "duration_minutes")
    def _keep_ends_at(self, key: str, value: object) -> object:
        starts_at = value if key == "starts_at" else self.starts_at
        minutes = value if key == "duration_minutes" else self.duration_minutes
        if isinstance(starts_at, datetime):
            length = minutes if isinstance(minutes, int) and minutes > 0 else DEFAULT_DURATION_MINUTES
            try:
                self.ends_at = starts_at + timedelta(minutes=length)
            except OverflowError:
                # Services bound the start to 2000-2100; a start at the end of the calendar (written
                # before that rule, or past the services) gets the last moment instead of failing.
                self.ends_at = datetime.max.replace(tzinfo=starts_at.tzinfo)
        return value

    @property
    def is_archive_entry(self) -> bool:
        return self.kind == EventKind.ARCHIVE

    @property
    def phase(self) -> EventPhase:
        now = clock.now()
        if now < self.starts_at:
            return EventPhase.UPCOMING
        if now < self.ends_at:
            return EventPhase.LIVE
        return EventPhase.PAST

    @property
    def has_started(self) -> bool:
        return clock.now() >= self.starts_at

    @property
    def series_label(self) -> str:
        """The series and the number, as a programme names its webinars: "LA Webinar #16"."""
        if self.series is None:
            return ""
        return f"{self.series.title} #{self.number}" if self.number else self.series.title

    @property
    def full_title(self) -> str:
        """The title led by the series and number ("LA Webinar #16: Title"), unless it already says
        its number; what emails call the webinar."""
        label = self.series_label
        if not label or (self.number and f"#{self.number}" in self.title):
            return self.title
        return f"{label}: {self.title}"

    @property
    def topics(self) -> list[Tag]:
        return sorted(self.tags, key=lambda tag: natural_key(tag.name))

    @property
    def registration_closes_at(self) -> datetime:
        return self.registration_deadline or self.starts_at

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    @property
    def is_published(self) -> bool:
        return self.status == EventStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_rescheduled(self) -> bool:
        return self.previous_starts_at is not None and self.previous_starts_at != self.starts_at

    def registration_open(self) -> bool:
        return self.is_published and not self.is_archive_entry and clock.now() < self.registration_closes_at


@sa_event.listens_for(Event, "before_insert")
@sa_event.listens_for(Event, "before_update")
def _ends_at_before_flush(_mapper: object, _connection: object, target: Event) -> None:
    # The validator covers attribute changes; this covers a duration left to its column default.
    target.ends_at = target.starts_at + timedelta(minutes=target.duration_minutes or DEFAULT_DURATION_MINUTES)


class Speaker(Model):
    __tablename__ = "speaker"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    photo_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")

    event: Mapped[Event] = relationship(back_populates="speakers")
    photo: Mapped[Image | None] = relationship()


class Registration(Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("event_id", "email"),
        Index("ix_registration_event_status_created", "event_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[RegistrationStatus] = mapped_column(stored_as_string(RegistrationStatus, 16))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None until the organizer records attendance.
    attended: Mapped[bool | None] = mapped_column(Boolean)
    # Set when the attendee opts out of reminders and organizer messages for this webinar.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The organizer's reason when declining a request (sent in the email, shown to nobody else).
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Minutes in the meeting according to the imported participant reports; None before an import.
    attended_minutes: Mapped[int | None] = mapped_column(Integer)
    # Name, email and typed answers were replaced (on request, or by the retention purge).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="Answer.id"
    )

    @property
    def can_join(self) -> bool:
        """The one rule for the join link: a confirmed seat at a webinar that still takes place."""
        return self.status == RegistrationStatus.CONFIRMED and not self.event.is_cancelled

    @property
    def join_url(self) -> str | None:
        return self.event.join_url if self.can_join else None


class Question(Model):
    """A question of a webinar's registration form. Removing one only hides it: answers stay."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[QuestionKind] = mapped_column(stored_as_string(QuestionKind, 20))
    label: Mapped[str] = mapped_column(String(300))
    label_es: Mapped[str] = mapped_column(String(300), default="")
    label_pt: Mapped[str] = mapped_column(String(300), default="")
    # Choices, one per line; the translations line up with them line by line.
    options: Mapped[str] = mapped_column(Text, default="")
    options_es: Mapped[str] = mapped_column(Text, default="")
    options_pt: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(back_populates="questions")


class Answer(Model):
    """One answer of one registration. The question's label is kept beside it, so a question changed
    or removed later leaves the answers as they were given."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("question.id", ondelete="SET NULL"), index=True
    )
    question_label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[QuestionKind] = mapped_column(stored_as_string(QuestionKind, 20))
    # Choices are stored as given in the organizer's first language; several are separated by newlines.
    value: Mapped[str] = mapped_column(Text, default="")

    registration: Mapped[Registration] = relationship(back_populates="answers")


class ParticipantRecord(Model):
    """One person in an imported participant report (Zoom, Teams, Meet), their minutes summed."""

    __tablename__ = "participant_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ReminderDelivery(Model):
    """One reminder enqueued for one person and one offset: the unique key makes "never twice" a rule."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (UniqueConstraint("registration_id", "offset_minutes"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    offset_minutes: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Broadcast(Model):
    """A message from an organizer to the people registered for a webinar.

    The worker expands it into outbox rows in chunks, so a send to thousands never blocks a request.
    """

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # MESSAGE, RECORDING (whose text is the recording summary), EVENT_UPDATED or EVENT_CANCELLED.
    kind: Mapped[MailKind] = mapped_column(stored_as_string(MailKind, 32), default=MailKind.MESSAGE)
    audience: Mapped[Audience] = mapped_column(stored_as_string(Audience, 16))
    subject: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # The highest registration id already expanded into the outbox; None until expansion starts.
    expanded_through: Mapped[int | None] = mapped_column(Integer)
    expanded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # None while the organizer checks the preview: the worker expands only confirmed sends.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An update says what changed: the start and join link before it (None when they did not change).
    previous_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_join_url: Mapped[str | None] = mapped_column(String(500))

    event: Mapped[Event] = relationship()


class BroadcastRecipient(Model):
    """One person a message to a selection (Audience.SELECTED) goes to."""

    __tablename__ = "broadcast_recipient"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcast.id", ondelete="CASCADE"), primary_key=True
    )
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def _lane_of_inserted_row(context: Any) -> int:
    return int(MailKind(context.get_current_parameters()["kind"]).lane)


class OutboxMessage(Model):
    """An email waiting to be delivered, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_message"
    # The claim reads one lane after the other in this order and stops at its LIMIT: with the index
    # matching the ORDER BY, PostgreSQL and SQLite both walk the index instead of sorting the queue.
    __table_args__ = (Index("ix_outbox_message_claim", "status", "lane", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(stored_as_string(MailKind, 32))
    # Derived from the kind (MailKind.lane), also for rows written by a bulk INSERT.
    lane: Mapped[int] = mapped_column(Integer, default=_lane_of_inserted_row)
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[str] = mapped_column(String(300))
    # None until the worker renders the message from its registration (see mail.notifications.send).
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    ics_method: Mapped[str | None] = mapped_column(String(16))
    ics: Mapped[bytes | None] = mapped_column(LargeBinary)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), index=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcast.id", ondelete="SET NULL"), index=True
    )
    # For bulk mail (reminders, organizer messages): the one-click unsubscribe URL (RFC 8058).
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[OutboxStatus] = mapped_column(
        stored_as_string(OutboxStatus, 16), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A worker holds a claimed message until this moment; a worker that died lets it go when it passes.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailSendWindow(Model):
    """How many messages every worker together has sent in the current second: one row, shared.

    MAIL_MAX_PER_SECOND caps the sum over all workers on all machines (a provider counts the
    sender, not the process), so the count lives where they all meet.
    """

    __tablename__ = "mail_send_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whole seconds since the epoch; a worker whose clock runs behind counts into the newest second.
    second: Mapped[int] = mapped_column(BigInteger, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)


class MailRelayStatus(Model):
    """The relay's health as the workers last saw it: one row, shared by every worker process.

    Workers read it before claiming mail (a relay known to be down is not hammered by each of them)
    and health checks and metrics read it without talking SMTP themselves.
    """

    __tablename__ = "mail_relay_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[RelayState] = mapped_column(stored_as_string(RelayState, 16), default=RelayState.UP)
    # Outages in a row; the pause before the next try grows with it.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    down_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class WebhookEndpoint(Model):
    """A URL an organizer registered to hear about one webinar, or every webinar of one series.

    The secret is kept as it is (not hashed): every delivery is signed with it. After a rotation the
    previous secret also signs for a day, so a receiver can switch without losing deliveries.
    """

    __tablename__ = "webhook_endpoint"
    __table_args__ = (CheckConstraint("(event_id IS NULL) <> (series_id IS NULL)", name="one_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # WebhookEventType values, comma-separated.
    event_types: Mapped[str] = mapped_column(Text, default="")
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Why delivery stopped (the receiver answered 410 Gone, or an organizer paused it).
    disabled_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    event: Mapped[Event | None] = relationship()
    series: Mapped[Series | None] = relationship()

    @property
    def event_type_list(self) -> list[WebhookEventType]:
        return [WebhookEventType(part) for part in self.event_types.split(",") if part]


class WebhookDelivery(Model):
    """One event for one endpoint: written in the same transaction as the change it reports, with
    the payload as it was then, and delivered by the worker like an email (claim, lease, retries)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True
    )
    # The person it was about, so erasing them also empties the payloads that named them.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    # The webhook-id header: the same on every attempt, so a receiver can drop a repeat.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[WebhookEventType] = mapped_column(stored_as_string(WebhookEventType, 40))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        stored_as_string(OutboxStatus, 16), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class SiteSettings(Model):
    """What an administrator sets about the site's public face: one row (id 1), absent until the first
    save. Empty columns fall back to the environment's defaults (SITE_NAME), so a fresh install reads
    as before.

    ``version`` rises on every save: the stylesheet and logo addresses carry it (so browsers may cache
    them for a year), and a page cache can put it in its keys so a new name or colour shows at once."""

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_name: Mapped[str] = mapped_column(String(80), default="")
    # A raster logo is an Image (resized like any picture); an SVG one is kept as checked text, since
    # Pillow does not read SVG. At most one of the two is set.
    logo_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))
    logo: Mapped[Image | None] = relationship(foreign_keys=[logo_id], lazy="joined")
    logo_svg: Mapped[str | None] = mapped_column(Text)
    # "#rrggbb", lower case; empty keeps the stylesheet's own colour.
    accent_color: Mapped[str] = mapped_column(String(7), default="")
    organisation_label: Mapped[str] = mapped_column(String(120), default="")
    organisation_url: Mapped[str] = mapped_column(String(500), default="")
    privacy_label: Mapped[str] = mapped_column(String(120), default="")
    privacy_url: Mapped[str] = mapped_column(String(500), default="")
    imprint_label: Mapped[str] = mapped_column(String(120), default="")
    imprint_url: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    @property
    def has_logo(self) -> bool:
        return self.logo is not None or bool(self.logo_svg)


class ContentVersion(Model):
    """One row whose number rises with every change to what public pages show (webinars, series,
    speakers, pictures, topics, questions), in the transaction that makes the change: web processes
    key their rendered pages on it, so a page is rendered once per version and an organizer's change
    is seen by every process at its next request. ``webinars.pagecache`` raises it."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The row exists from the moment the table does (create_all in tests, the revision in production),
# so raising the version is always one UPDATE.
sa_event.listen(
    ContentVersion.__table__,
    "after_create",
    db.DDL("INSERT INTO content_version (id, version) VALUES (1, 0)"),
)
