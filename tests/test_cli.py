"""The `flask` commands: creating and listing sites, a burst worker, a one-off sweep."""

import pytest

from service.core.queues import moderation_queue
from service.extensions import db
from service.models import Site

from .helpers import row_count, status_of, submit


def test_sites_create_stores_the_site_with_its_name(cli):
    result = cli("sites", "create", "news", "--name", "News")
    assert result.exit_code == 0, result.output
    assert "Created site 'news'." in result.output
    site = db.session.scalar(db.select(Site).where(Site.key == "news"))
    assert site.name == "News"


def test_sites_create_without_a_name_uses_the_key(cli):
    assert cli("sites", "create", "sport_desk-2").exit_code == 0
    assert (
        db.session.scalar(db.select(Site.name).where(Site.key == "sport_desk-2")) == "sport_desk-2"
    )


def test_creating_an_existing_site_fails_clearly(cli):
    assert cli("sites", "create", "news", "--name", "News").exit_code == 0
    result = cli("sites", "create", "news", "--name", "Other")
    assert result.exit_code != 0
    assert "Site 'news' already exists." in result.output
    assert db.session.scalar(db.select(Site.name).where(Site.key == "news")) == "News"
    assert row_count(Site) == 1


def test_exist_ok_accepts_an_existing_site_and_keeps_it(cli):
    assert cli("sites", "create", "news", "--name", "News").exit_code == 0
    result = cli("sites", "create", "news", "--name", "Other", "--exist-ok")
    assert result.exit_code == 0, result.output
    assert "already exists" in result.output
    assert db.session.scalar(db.select(Site.name).where(Site.key == "news")) == "News"


def test_exist_ok_creates_a_missing_site(cli):
    assert cli("sites", "create", "news", "--exist-ok").exit_code == 0
    assert row_count(Site) == 1


@pytest.mark.parametrize("key", ["bad key!", "a/b", "", "k" * 65, "tab\tkey"])
def test_invalid_site_key_is_refused(cli, key):
    result = cli("sites", "create", key)
    assert result.exit_code != 0
    assert "KEY" in result.output
    assert "letters, digits, '-' or '_'" in result.output
    assert row_count(Site) == 0


def test_sites_list_prints_key_and_name_sorted(cli):
    cli("sites", "create", "news", "--name", "News")
    cli("sites", "create", "arts", "--name", "Arts & Culture")
    result = cli("sites", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["arts\tArts & Culture", "news\tNews"]


def test_sites_list_with_no_sites_prints_nothing(cli):
    result = cli("sites", "list")
    assert (result.exit_code, result.output) == (0, "")


def test_burst_worker_moderates_submitted_comments_and_exits(cli, client, site):
    first = submit(client)
    second = submit(client, body="you are a worthless idiot")
    result = cli("worker", "--burst")
    assert result.exit_code == 0, result.output
    assert status_of(first["id"]) == "approved"
    assert status_of(second["id"]) == "rejected"
    assert moderation_queue().count == 0


def test_sweeper_once_reports_nothing_to_do(cli, app, client, site):
    app.config["SWEEP_AFTER_SECONDS"] = 0
    submit(client)  # its job is still queued: nothing was lost
    result = cli("sweeper", "--once")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Re-enqueued 0 comment(s)."


def test_sweeper_once_re_enqueues_comments_whose_job_was_lost(cli, app, client, site, run_worker):
    app.config["SWEEP_AFTER_SECONDS"] = 0
    lost = [submit(client, body=f"Comment number {n} about the bridge.")["id"] for n in range(2)]
    moderation_queue().empty()  # as if Redis lost the jobs

    result = cli("sweeper", "--once")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Re-enqueued 2 comment(s)."
    assert moderation_queue().count == 2
    run_worker()
    assert [status_of(comment_id) for comment_id in lost] == ["approved", "approved"]


def test_sweeper_once_leaves_recent_comments_alone(cli, client, site):
    submit(client)
    moderation_queue().empty()
    # The default grace period (10 s) has not passed: the job may still be on its way.
    assert cli("sweeper", "--once").output.strip() == "Re-enqueued 0 comment(s)."
