"""Migrations: a single head, the same schema as the models, and a clean round trip."""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from service.config import MIGRATIONS_DIR
from service.extensions import db

from .helpers import insert_early_article, insert_early_comment, temporary_database


def test_there_is_a_single_head():
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_base_and_upgrade_again(app_factory, tmp_path):
    with temporary_database(tmp_path) as url:
        fresh = app_factory(SQLALCHEMY_DATABASE_URI=url)
        with fresh.app_context():
            upgrade()
            assert {"sites", "articles", "comments", "audit_entries"} <= set(
                sa.inspect(db.engine).get_table_names()
            )
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            assert "comments" in sa.inspect(db.engine).get_table_names()
            db.engine.dispose()


def _old_comment():
    """Store a site, an article and an approved comment with the columns of early schemas."""
    site_id, article_id = insert_early_article()
    comment_id = insert_early_comment(site_id, article_id)
    db.session.commit()
    return SimpleNamespace(id=comment_id, site_id=site_id)


def test_duplicate_anonymous_reports_are_folded_into_the_first(app_factory, tmp_path):
    from service.models import Report, ReportReason

    with temporary_database(tmp_path) as url:
        fresh = app_factory(SQLALCHEMY_DATABASE_URI=url)
        with fresh.app_context():
            upgrade(revision="ea79f012cc25")  # before reports were one per address
            # Plain SQL: the models have columns that later migrations add.
            comment = _old_comment()
            rows = [(None, "a" * 64)] * 3 + [(None, "b" * 64)] * 2 + [("key-one-1", "a" * 64)]
            for key, ip_hash in rows:
                db.session.add(
                    Report(
                        comment_id=comment.id,
                        site_id=comment.site_id,
                        reason=ReportReason.SPAM,
                        reporter_key=key,
                        ip_hash=ip_hash,
                    )
                )
            db.session.commit()
            first = db.session.scalar(sa.select(sa.func.min(Report.id)))
            db.session.remove()

            upgrade()

            kept = db.session.execute(
                sa.select(Report.id, Report.reporter_key, Report.ip_hash).order_by(Report.id)
            ).all()
            assert [(key, ip_hash) for _, key, ip_hash in kept] == [
                (None, "a" * 64),
                (None, "b" * 64),
                ("key-one-1", "a" * 64),
            ]
            assert kept[0].id == first
            db.session.remove()
            db.engine.dispose()
