"""SSO sign-in: per-site keys, a site's sign-in policy, the signed-in author of a comment

Ban targets need no change for "sso_id": ban targets are plain strings.

Revision ID: a15a0000s5o1
Revises: 5b1e7c0d2a94
Create Date: 2026-11-30 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15a0000s5o1'
down_revision = '5b1e7c0d2a94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sso_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=8), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=True),
    sa.Column('public_key', sa.Text(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_sso_keys_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_keys')),
    sa.UniqueConstraint('site_id', 'kid', name=op.f('uq_sso_keys_site_id')),
    )
    with op.batch_alter_table('sso_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_keys_site_id'), ['site_id'], unique=False)

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in', sa.String(length=16), server_default='anonymous', nullable=False))

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('badges', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comments_sso_id'), ['sso_id'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_sso_id'))
        batch_op.drop_column('badges')
        batch_op.drop_column('sso_id')

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('sign_in')

    with op.batch_alter_table('sso_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_keys_site_id'))

    op.drop_table('sso_keys')
