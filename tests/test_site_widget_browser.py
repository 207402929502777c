"""The widget follows its site's settings: the default language when the page has none, and the
comment length limits, checked in the browser before anything is sent."""

import pytest

from service.extensions import db

from .browser_support import composer, expect, widget

pytestmark = pytest.mark.browser


@pytest.fixture
def page(context):
    return context.new_page()


def test_a_page_without_a_language_gets_the_sites_default(server, page, site):
    site.language = "he"
    db.session.commit()
    page.goto(server.page("a1", lang=""))
    expect(widget(page).get_by_role("button", name="תגובה חדשה")).to_be_visible()
    assert widget(page).get_attribute("dir") == "rtl"

    # A page that says its language wins over the site's.
    page.goto(server.page("a1", lang="en"))
    expect(widget(page).get_by_role("button", name="New comment")).to_be_visible()


def test_the_composer_mirrors_the_sites_length_limits(server, page, site):
    site.min_comment_length = 20
    site.max_comment_length = 40
    db.session.commit()
    requests = []
    page.on("request", lambda r: r.method == "POST" and requests.append(r.url))
    page.goto(server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Comment", exact=True).fill("Too short.")
    page.get_by_role("button", name="Post comment").click()
    expect(composer(page).get_by_text("At least 20 characters.")).to_be_visible()
    assert requests == []
    # The field itself stops at the site's maximum.
    expect(page.get_by_label("Comment", exact=True)).to_have_attribute("maxlength", "40")
