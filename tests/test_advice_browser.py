"""The threshold advice page in headless Chromium: axe-core over the whole page (tables, caveats,
the apply form), and the one-click apply from a real browser."""

from __future__ import annotations

import pytest

from service.extensions import db
from service.models import Site

from .browser_support import expect, open_console_at, problems, violations

pytestmark = pytest.mark.browser

PAGE = "/console/sites/demo/advice"


@pytest.mark.usefixtures("decided")
def test_the_advice_page_passes_axe_and_applies(server, axe_context, make_user):
    make_user("olga", "operator")
    page = open_console_at(axe_context, server, "olga", PAGE)
    expect(page.get_by_role("heading", name="Toxicity")).to_be_visible()
    assert violations(page) == []
    page.get_by_role("checkbox", name="Spam: hold at 0.50 → 0.06").uncheck()
    page.get_by_role("checkbox", name="Spam: reject at 0.90 → 0.70").uncheck()
    page.get_by_role("button", name="Apply the suggested thresholds").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Applied: toxicity hold 0.50 → 0.55, toxicity reject 0.90 → 0.60."
    )
    # Only the spam thresholds are left to change.
    expect(page.get_by_role("checkbox")).to_have_count(2)
    assert violations(page) == []
    assert problems(page) == []
    db.session.expire_all()
    site = db.session.scalar(db.select(Site).where(Site.key == "demo"))
    assert site.policy == {"toxicity_hold": 0.55, "toxicity_reject": 0.6}
