"""Site settings: the brand an administrator sets

One row, created by the first save; until then every value comes from the environment.

Revision ID: i17_brand
Revises: i15_languages
Create Date: 2026-11-25 12:17:25.778098

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i17_brand'
down_revision = 'i15_languages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_name', sa.String(length=80), nullable=False),
    sa.Column('logo_id', sa.Integer(), nullable=True),
    sa.Column('logo_svg', sa.Text(), nullable=True),
    sa.Column('accent_color', sa.String(length=7), nullable=False),
    sa.Column('organisation_label', sa.String(length=120), nullable=False),
    sa.Column('organisation_url', sa.String(length=500), nullable=False),
    sa.Column('privacy_label', sa.String(length=120), nullable=False),
    sa.Column('privacy_url', sa.String(length=500), nullable=False),
    sa.Column('imprint_label', sa.String(length=120), nullable=False),
    sa.Column('imprint_url', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['logo_id'], ['image.id'], name=op.f('fk_site_settings_logo_id_image'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_settings'))
    )


def downgrade():
    op.drop_table('site_settings')
