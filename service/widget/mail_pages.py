"""The pages behind the links in notification mail: confirm an address (double opt-in) and
stop all mail to it (with RFC 8058's one-click POST).

A GET only shows a button: link scanners fetch every link in a mail, and must not confirm or
unsubscribe anyone. The POST does it; a mail client's one-click POST
(`List-Unsubscribe=One-Click`) unsubscribes with no page in between.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from service.core import mail
from service.extensions import db
from service.models import MailRecipient, Site

bp = Blueprint("mail", __name__, url_prefix="/mail")

PAGE_CSP = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

PAGES = {
    "en": {
        "confirm_title": "Confirm your e-mail address",
        "confirm_text": "Confirm that you want mail about comments on {site}.",
        "confirm_button": "Confirm",
        "confirmed": "Thank you: your address is confirmed.",
        "stop_title": "Stop mail from {site}",
        "stop_text": "Stop all mail from {site} to this address?",
        "stop_button": "Stop all mail",
        "stopped": "Done: {site} will send no more mail to this address.",
        "unknown": "This link is not valid (any more).",
    },
    "he": {
        "confirm_title": "אישור כתובת הדוא״ל",
        "confirm_text": "לאשר קבלת דוא״ל על תגובות ב{site}?",
        "confirm_button": "אישור",
        "confirmed": "תודה: הכתובת אושרה.",
        "stop_title": "הפסקת דוא״ל מ{site}",
        "stop_text": "להפסיק את כל הדוא״ל מ{site} לכתובת זו?",
        "stop_button": "הפסקת כל הדוא״ל",
        "stopped": "בוצע: {site} לא ישלח עוד דוא״ל לכתובת זו.",
        "unknown": "הקישור אינו תקף (עוד).",
    },
}


def _page(recipient: MailRecipient | None, key: str, *, button: str | None = None, status=200):
    site = db.session.get(Site, recipient.site_id) if recipient is not None else None
    lang = site.language if site is not None and site.language in PAGES else "en"
    words = {
        name: text.format(site=site.name if site else "") for name, text in PAGES[lang].items()
    }
    title = words["stop_title"] if key.startswith("stop") else words["confirm_title"]
    return (
        render_template(
            "mail_page.html",
            lang=lang,
            title=title if recipient is not None else words["unknown"],
            message=words[key],
            button=words[button] if button else None,
        ),
        status,
        {
            # The token in the URL is a credential: no caches, no referrers, no framing.
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": PAGE_CSP,
        },
    )


@bp.get("/confirm/<string:token>")
def confirm_page(token: str):
    """Show the button that confirms an address (a GET never confirms)."""
    recipient = mail.recipient_of_confirm(token)
    if recipient is None:
        return _page(None, "unknown", status=404)
    return _page(recipient, "confirm_text", button="confirm_button")


@bp.post("/confirm/<string:token>")
def confirm(token: str):
    """Confirm the address; notifications waiting for it go out."""
    recipient = mail.confirm(token)
    if recipient is None:
        return _page(None, "unknown", status=404)
    return _page(recipient, "confirmed")


@bp.get("/unsubscribe/<string:token>")
def unsubscribe_page(token: str):
    """Show the button that stops all mail to the address (a GET never unsubscribes)."""
    recipient = mail.recipient_of_unsubscribe(token)
    if recipient is None:
        return _page(None, "unknown", status=404)
    if recipient.unsubscribed_at is not None:
        return _page(recipient, "stopped")
    return _page(recipient, "stop_text", button="stop_button")


@bp.post("/unsubscribe/<string:token>")
def unsubscribe(token: str):
    """Stop all mail to the address from its site: the page's button, or a mail client's
    RFC 8058 one-click POST (body `List-Unsubscribe=One-Click`); either way, once is enough."""
    recipient = mail.recipient_of_unsubscribe(token)
    if recipient is None:
        return _page(None, "unknown", status=404)
    mail.unsubscribe(recipient)
    return _page(recipient, "stopped")
