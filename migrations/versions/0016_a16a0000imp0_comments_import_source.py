"""comments: where an imported comment came from (import_source, import_id)

An importer (service/core/imports.py) stores the source ("disqus", "wordpress", "talkback") and
the comment's id there; the unique index per site makes a second run of the same import add
nothing. NULL for comments posted here.

Revision ID: a16a0000imp0
Revises: f16f0000b00c
Create Date: 2026-11-30 19:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a16a0000imp0"
down_revision = "f16f0000b00c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("import_id", sa.String(length=100), nullable=True))
    # A unique index, not a constraint: SQLite would rebuild the whole table for a constraint.
    # Partial, so comments posted here (no import id) take no room in it.
    op.create_index(
        "uq_comments_site_import",
        "comments",
        ["site_id", "import_source", "import_id"],
        unique=True,
        postgresql_where=sa.text("import_id IS NOT NULL"),
        sqlite_where=sa.text("import_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("uq_comments_site_import", table_name="comments")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("import_id")
        batch_op.drop_column("import_source")
