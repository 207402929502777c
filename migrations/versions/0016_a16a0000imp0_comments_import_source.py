"""comments: where an imported comment came from (import_source, import_id)

An importer (service/core/imports.py) stores the source ("disqus", "wordpress", "talkback") and
the comment's id there; the unique constraint per site makes a second run of the same import add
nothing. NULL for comments posted here.

Revision ID: a16a0000imp0
Revises: d15d0000fea7
Create Date: 2026-11-30 19:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a16a0000imp0"
down_revision = "d15d0000fea7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("import_id", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(
            "uq_comments_site_import", ["site_id", "import_source", "import_id"]
        )


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_comments_site_import", type_="unique")
        batch_op.drop_column("import_id")
        batch_op.drop_column("import_source")
