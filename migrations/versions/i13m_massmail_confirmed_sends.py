"""Bulk sends wait for the organizer's confirmation; updates remember what changed; messages to a
selection of people

Sends queued before this revision were confirmed by pressing Send, so they count as confirmed when
they were created and the worker keeps expanding any that were half way.

Revision ID: i13m_massmail
Revises: i17_brand
Create Date: 2026-11-25 12:30:00

"""
from alembic import op
import sqlalchemy as sa



revision = "i13m_massmail"
down_revision = "i17_brand"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("previous_starts_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("previous_join_url", sa.String(length=500), nullable=True))
    op.execute("UPDATE broadcast SET confirmed_at = created_at")
    op.create_table(
        "broadcast_recipient",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("broadcast_id", "registration_id"),
    )
    with op.batch_alter_table("broadcast_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_recipient_registration_id"), ["registration_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("broadcast_recipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_recipient_registration_id"))
    op.drop_table("broadcast_recipient")
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_column("previous_join_url")
        batch_op.drop_column("previous_starts_at")
        batch_op.drop_column("confirmed_at")
