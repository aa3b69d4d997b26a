"""The content version: one row every change to what public pages show raises, so rendered pages
can be kept and reused until it moves

Revision ID: i14_content_version
Revises: i13m_massmail
Create Date: 2026-11-25 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "i14_content_version"
down_revision = "i13m_massmail"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade():
    op.drop_table("content_version")
