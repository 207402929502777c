"""comments: editors' picks (featured_at, featured_by)

A moderator features (pins) a published comment: when and by whom. NULL means not featured.

Revision ID: d15d0000fea7
Revises: c15c0000ed17
Create Date: 2026-11-30 18:45:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d15d0000fea7"
down_revision = "c15c0000ed17"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("featured_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("featured_by", sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("featured_by")
        batch_op.drop_column("featured_at")
