"""top-level comments have no root_id (NULL); replies keep their top-level comment's id

A top-level comment used to point at itself, which took a second statement after its insert.
Data only: the column was nullable already.

Revision ID: ea79f012cc25
Revises: 45938c24bbdd
Create Date: 2026-11-30 12:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ea79f012cc25'
down_revision = '45938c24bbdd'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE comments SET root_id = NULL WHERE parent_id IS NULL")


def downgrade():
    op.execute("UPDATE comments SET root_id = id WHERE parent_id IS NULL")
