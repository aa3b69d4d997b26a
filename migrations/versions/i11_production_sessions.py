"""Accounts: disabled flag and a session version that ends every session when raised

Revision ID: i11_production
Revises: i13_lifecycle
Create Date: 2026-11-25 09:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'i11_production'
down_revision = 'i13_lifecycle'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not batch mode: SQLite adds a column with a constant default in place, while a
    # batch copy would drop "user" under the foreign keys of every webinar and series that names it.
    op.add_column('user', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('user', sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('active')
