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
