"""Mail relay status shared by the workers (outage back-off, health checks)

Revision ID: i09_mail_isolation
Revises: i11_production
Create Date: 2026-11-25 09:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i09_mail_isolation'
down_revision = 'i11_production'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_relay_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('down_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_relay_status'))
    )


def downgrade():
    op.drop_table('mail_relay_status')
