"""e-mail notifications: recipients, subscriptions, the outbox, moderators' queue alerts

Revision ID: e16e0000ma11
Revises: d15d0000fea7
Create Date: 2026-11-30 19:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e16e0000ma11"
down_revision = "d15d0000fea7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_alert_minutes", sa.Integer(), nullable=True))
    op.create_table(
        "mail_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("email_encrypted", sa.Text(), nullable=True),
        sa.Column("confirm_token_hash", sa.String(length=64), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.Column("digest", sa.String(length=8), server_default="off", nullable=False),
        sa.Column("last_digest_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "email_hash"),
    )
    with op.batch_alter_table("mail_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_recipients_confirm_token_hash"), ["confirm_token_hash"], unique=False
        )
    op.create_table(
        "mail_subscriptions",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["mail_recipients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("comment_id"),
    )
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_subscriptions_recipient_id"), ["recipient_id"], unique=False
        )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["mail_recipients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_outbox_recipient_id"), ["recipient_id"], unique=False
        )
        batch_op.create_index(
            "ix_mail_outbox_status_due", ["status", "next_attempt_at"], unique=False
        )
    op.create_table(
        "moderator_mail_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email_encrypted", sa.Text(), nullable=True),
        sa.Column("queue_alerts", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade():
    op.drop_table("moderator_mail_settings")
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_outbox_status_due")
        batch_op.drop_index(batch_op.f("ix_mail_outbox_recipient_id"))
    op.drop_table("mail_outbox")
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_subscriptions_recipient_id"))
    op.drop_table("mail_subscriptions")
    with op.batch_alter_table("mail_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_recipients_confirm_token_hash"))
    op.drop_table("mail_recipients")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("queue_alert_minutes")
