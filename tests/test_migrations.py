"""Migrations: a single head, the same schema as the models, and a clean round trip."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from service.config import MIGRATIONS_DIR
from service.extensions import db

from .helpers import temporary_database


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


def _reflected_insert(table: str, **values) -> int:
    """Insert a row into a table as an old revision has it (the models may have more columns)."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=db.engine)
    with db.engine.begin() as connection:
        return connection.execute(
            sa.insert(reflected).values(**values).returning(reflected.c.id)
        ).scalar_one()


def test_duplicate_anonymous_reports_are_folded_into_the_first(app_factory, tmp_path):
    from service.models import Report

    now = sa.func.now()
    with temporary_database(tmp_path) as url:
        fresh = app_factory(SQLALCHEMY_DATABASE_URI=url)
        with fresh.app_context():
            upgrade(revision="ea79f012cc25")  # before reports were one per address
            # Rows written as that revision's tables have them: later columns don't exist yet.
            site_id = _reflected_insert(
                "sites", key="demo", name="Demo", policy={}, allowed_origins=[], created_at=now
            )
            article_id = _reflected_insert(
                "articles", site_id=site_id, external_id="a1", is_closed=False, created_at=now
            )
            comment_id = _reflected_insert(
                "comments",
                site_id=site_id,
                article_id=article_id,
                status="approved",
                author_name="Ann",
                body_html="<p>Hi</p>",
                body_text="Hi",
                text_hash="0" * 64,
                reasons=[],
                delete_token_hash="0" * 64,
                created_at=now,
                updated_at=now,
            )
            rows = [(None, "a" * 64)] * 3 + [(None, "b" * 64)] * 2 + [("key-one-1", "a" * 64)]
            ids = [
                _reflected_insert(
                    "reports",
                    comment_id=comment_id,
                    site_id=site_id,
                    reason="spam",
                    reporter_key=key,
                    ip_hash=ip_hash,
                    created_at=now,
                )
                for key, ip_hash in rows
            ]
            first = min(ids)
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
