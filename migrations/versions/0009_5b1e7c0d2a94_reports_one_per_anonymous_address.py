"""reports without a commenter key: one per comment and address hash

Anonymous reports were never de-duplicated (NULL keys never collide), so one address could
store thousands on a comment. Duplicates already stored are removed (the first one stays),
then a partial unique index keeps it so.

Revision ID: 5b1e7c0d2a94
Revises: ea79f012cc25
Create Date: 2026-11-30 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e7c0d2a94'
down_revision = 'ea79f012cc25'
branch_labels = None
depends_on = None

ANONYMOUS = sa.text("reporter_key IS NULL")


def upgrade():
    op.execute(
        "DELETE FROM reports WHERE reporter_key IS NULL AND ip_hash IS NOT NULL AND id > ("
        " SELECT MIN(first.id) FROM reports AS first"
        " WHERE first.comment_id = reports.comment_id AND first.ip_hash = reports.ip_hash"
        " AND first.reporter_key IS NULL)"
    )
    op.create_index(
        'uq_reports_comment_anonymous_ip',
        'reports',
        ['comment_id', 'ip_hash'],
        unique=True,
        postgresql_where=ANONYMOUS,
        sqlite_where=ANONYMOUS,
    )


def downgrade():
    op.drop_index('uq_reports_comment_anonymous_ip', table_name='reports')
