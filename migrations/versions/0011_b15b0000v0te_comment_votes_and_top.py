"""readers' votes (likes and dislikes), their counts on comments, and sort=top's scores

Revision ID: b15b0000v0te
Revises: a15a0000s5o1
Create Date: 2026-11-30 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b15b0000v0te'
down_revision = 'a15a0000s5o1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'comment_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('voter', sa.String(length=80), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('comment_id', 'voter'),
    )
    op.create_index('ix_comment_votes_comment_ip', 'comment_votes', ['comment_id', 'ip_hash'])
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('likes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('dislikes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('top_score', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column('prev_top_score', sa.Float(), server_default='0', nullable=False)
        )
        batch_op.create_index('ix_comments_article_top', ['article_id', 'top_score', 'id'])
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank_epoch', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('ranked_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('dislikes_enabled', sa.Boolean(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('dislikes_enabled')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('ranked_at')
        batch_op.drop_column('rank_epoch')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_article_top')
        batch_op.drop_column('prev_top_score')
        batch_op.drop_column('top_score')
        batch_op.drop_column('dislikes')
        batch_op.drop_column('likes')
    op.drop_index('ix_comment_votes_comment_ip', table_name='comment_votes')
    op.drop_table('comment_votes')
