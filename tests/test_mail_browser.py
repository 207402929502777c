"""The widget's "notify me of replies" checkbox in headless Chromium: shown once an address is
typed (in English and Hebrew), and opting in sends the confirmation mail from the worker."""

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from service.extensions import db
from service.models import MailSubscription

from .browser_support import allow_origins, expect, live_server, record_problems
from .helpers import POLITE
from .test_mail import Collector, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def mail_server(app_factory, app, site):
    """A real SMTP server, and a live server whose app sends mail through it."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    settings = {
        "MAIL_SMTP_HOST": "127.0.0.1",
        "MAIL_SMTP_PORT": port,
        "MAIL_SMTP_SECURITY": "none",
        "MAIL_FROM": "comments@demo.test",
        "PUBLIC_URL": "https://talkback.test",
    }
    app.config.update(settings)  # the worker's app (run_worker) sends too
    with live_server(lambda **overrides: app_factory(**overrides, **settings)) as live:
        allow_origins(site, live.page_origin, live.api_origin)
        live.smtp = collector
        yield live
    controller.stop()


def test_the_checkbox_appears_with_an_address_and_opts_in(mail_server, context, run_worker):
    page = context.new_page()
    problems = record_problems(page)
    page.goto(mail_server.page("a1"))
    page.get_by_role("button", name="New comment").click()
    notify = page.get_by_label("Email me when someone replies (once a moderator approves it)")
    expect(notify).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("Noa")
    page.get_by_label("Email (optional, never shown)").fill("noa@example.com")
    expect(notify).to_be_visible()
    notify.check()
    page.get_by_label("Comment", exact=True).fill(POLITE)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_have_text("Thanks! Your comment is awaiting moderation.")
    (subscription,) = db.session.scalars(select(MailSubscription)).all()
    assert subscription.replies is True and subscription.decision is False
    run_worker()
    (confirmation,) = mail_server.smtp.to("noa@example.com")
    assert "Confirm" in confirmation["Subject"]
    assert problems == []


def test_the_checkbox_speaks_hebrew(mail_server, context):
    page = context.new_page()
    page.goto(mail_server.page("a1", lang="he"))
    page.get_by_role("button", name="תגובה חדשה").click()
    page.get_by_label("אימייל (רשות, לא יוצג)").fill("noa@example.com")
    expect(page.get_by_label("שלחו לי אימייל כשמישהו מגיב (לאחר אישור מנהל)")).to_be_visible()
