"""Archive entries, a stored end time for the life-cycle states, suggested and translated topics

Revision ID: i13_lifecycle
Revises: i12_organizer_tools
Create Date: 2026-11-25 09:06:13.585418

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i13_lifecycle'
down_revision = 'i12_organizer_tools'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='webinar', nullable=False))
        batch_op.add_column(sa.Column('registrations_reported', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attendance_reported', sa.Integer(), nullable=True))

    # Existing webinars: the end is the start plus the duration (SQLite stores naive UTC text).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "UPDATE event SET ends_at = strftime('%Y-%m-%d %H:%M:%f000', starts_at, "
            "'+' || duration_minutes || ' minutes')"
        )
    else:
        op.execute("UPDATE event SET ends_at = starts_at + make_interval(mins => duration_minutes)")

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('ends_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_event_status_ends_at', ['status', 'ends_at'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_event_attendance_not_negative'), 'attendance_reported IS NULL OR attendance_reported >= 0'
        )
        batch_op.create_check_constraint(
            op.f('ck_event_registrations_not_negative'), 'registrations_reported IS NULL OR registrations_reported >= 0'
        )

    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('name_es', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('name_pt', sa.String(length=80), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('tag', schema=None) as batch_op:
        batch_op.drop_column('name_pt')
        batch_op.drop_column('name_es')
        batch_op.drop_column('suggested')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_event_registrations_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_event_attendance_not_negative'), type_='check')
        batch_op.drop_index('ix_event_status_ends_at')
        batch_op.drop_column('attendance_reported')
        batch_op.drop_column('registrations_reported')
        batch_op.drop_column('kind')
        batch_op.drop_column('ends_at')
