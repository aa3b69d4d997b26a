"""Webinars and series say which language their title and description are written in

Existing rows get "en", the site's default language; organizers correct the ones held in another
language on their edit pages.

Revision ID: i15_languages
Revises: i12_team
Create Date: 2026-11-25 12:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "i15_languages"
down_revision = "i12_team"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), server_default="en", nullable=False))
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), server_default="en", nullable=False))


def downgrade():
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("language")
