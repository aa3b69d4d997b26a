"""Statuses, mail kinds and audiences become enums stored as strings

The columns stay VARCHAR of the same length and keep their values, so nothing is rewritten. What
changes is that the application now reads them as enum members and refuses a value outside its
enum: this revision checks every stored value first, so an upgrade stops with a clear message here
rather than failing later on the first page that reads an unknown one.

Revision ID: i10_enums
Revises: i15_images
Create Date: 2026-11-25 09:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "i10_enums"
down_revision = "i15_images"
branch_labels = None
depends_on = None

# The members at the time of this revision (a revision must not import the models that change later).
RELAY_STATES = ("up", "down")
QUESTION_KINDS = (
    "short_text",
    "long_text",
    "single_choice",
    "multiple_choice",
    "checkbox",
    "country",
    "referral",
)
ALLOWED = {
    ("event", "status"): ("draft", "published", "cancelled"),
    ("event", "kind"): ("webinar", "archive"),
    ("registration", "status"): ("confirmed", "waitlisted", "cancelled", "pending", "rejected"),
    ("outbox_message", "status"): ("queued", "sending", "sent", "failed", "withheld"),
    ("outbox_message", "kind"): (
        "registration_confirmed",
        "waitlisted",
        "promoted",
        "registration_cancelled",
        "event_updated",
        "event_cancelled",
        "invite_resent",
        "reminder",
        "message",
        "recording",
        "manage_link",
        "registration_pending",
        "registration_declined",
        "password_reset",
        "test",
    ),
    ("broadcast", "kind"): ("message", "recording"),
    ("broadcast", "audience"): ("confirmed", "waitlisted", "all", "attended", "absent"),
    ("api_token", "scope"): ("read", "write"),
    ("mail_relay_status", "state"): RELAY_STATES,
    ("question", "kind"): QUESTION_KINDS,
    ("answer", "kind"): QUESTION_KINDS,
}


def upgrade():
    connection = op.get_bind()
    unknown = []
    for (table, column), values in ALLOWED.items():
        rows = connection.execute(
            sa.select(sa.column(column), sa.func.count())
            .select_from(sa.table(table, sa.column(column)))
            .where(sa.column(column).not_in(values))
            .group_by(sa.column(column))
        ).all()
        unknown += [f"{table}.{column} = {value!r} ({count} rows)" for value, count in rows]
    if unknown:
        raise RuntimeError("values outside their enum; fix them before upgrading: " + "; ".join(unknown))


def downgrade():
    pass  # the storage never changed
