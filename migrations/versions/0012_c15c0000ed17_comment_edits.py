"""comment edits: the site's edit window, comments' edited_at and the comment_revisions table

Revision ID: c15c0000ed17
Revises: b15b0000v0te
Create Date: 2026-11-30 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c15c0000ed17'
down_revision = 'b15b0000v0te'
branch_labels = None
depends_on = None

REVISION_STATUSES = ('pending', 'approved', 'held', 'rejected', 'superseded')


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('edit_window_seconds', sa.Integer(), server_default='300', nullable=False)
        )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
    op.create_table(
        'comment_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('original', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('title', sa.String(length=120), nullable=True),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column(
            'status',
            sa.Enum(*REVISION_STATUSES, name='revision_status', native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column('toxicity_score', sa.Double(), nullable=True),
        sa.Column('spam_score', sa.Double(), nullable=True),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('comment_revisions', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_comment_revisions_comment_id'), ['comment_id'], unique=False
        )
        batch_op.create_index(
            'ix_comment_revisions_status_created', ['status', 'created_at'], unique=False
        )
        batch_op.create_index(
            'ix_comment_revisions_site_status_created',
            ['site_id', 'status', 'created_at'],
            unique=False,
        )


def downgrade():
    op.drop_table('comment_revisions')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('edited_at')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('edit_window_seconds')
