"""Building notification mails: text and HTML parts in the site's language (Hebrew right to
left), with RFC 8058 one-click unsubscribe headers. Pure: no database, no SMTP."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

STRINGS = {
    "en": {
        "confirm_subject": "Confirm your e-mail for comments on {site}",
        "confirm_intro": "Someone (we hope you) asked to be told about comments on {site}.",
        "confirm_action": "Confirm this address",
        "confirm_ignore": "If it wasn't you, ignore this mail: nothing else will be sent.",
        "reply_subject": "{author} replied to your comment on {site}",
        "reply_intro": "{author} replied to your comment:",
        "decision_published_subject": "Your comment on {site} is published",
        "decision_published": "Your comment is published.",
        "decision_rejected_subject": "Your comment on {site} was not published",
        "decision_rejected": "Your comment was not published.",
        "reason": "Reason: {reason}",
        "digest_subject": "New replies to your comments on {site} ({count})",
        "digest_intro": "New replies to your comments:",
        "queue_subject": "{site}: {count} comments waiting for moderation",
        "queue_intro": "{count} held comments wait; the oldest for {minutes} minutes.",
        "read": "Read it on the page",
        "stop": "Stop all mail from {site} to this address",
    },
    "he": {
        "confirm_subject": "אישור כתובת הדוא״ל לתגובות ב{site}",
        "confirm_intro": "מישהו (אנו מקווים שאת/ה) ביקש לקבל עדכונים על תגובות ב{site}.",
        "confirm_action": "אישור הכתובת",
        "confirm_ignore": "אם לא ביקשת, אפשר להתעלם מההודעה: לא יישלח דבר נוסף.",
        "reply_subject": "{author} הגיב/ה לתגובה שלך ב{site}",
        "reply_intro": "{author} הגיב/ה לתגובה שלך:",
        "decision_published_subject": "התגובה שלך ב{site} פורסמה",
        "decision_published": "התגובה שלך פורסמה.",
        "decision_rejected_subject": "התגובה שלך ב{site} לא פורסמה",
        "decision_rejected": "התגובה שלך לא פורסמה.",
        "reason": "סיבה: {reason}",
        "digest_subject": "תגובות חדשות לתגובות שלך ב{site} ({count})",
        "digest_intro": "תגובות חדשות לתגובות שלך:",
        "queue_subject": "{site}: {count} תגובות ממתינות לניהול",
        "queue_intro": "{count} תגובות מוחזקות ממתינות; הוותיקה ביותר {minutes} דקות.",
        "read": "לקריאה בעמוד",
        "stop": "הפסקת כל הדוא״ל מ{site} לכתובת זו",
    },
}


@dataclass(frozen=True)
class Quote:
    """A comment quoted in a mail: its author, plain text and where to read it."""

    author: str
    text: str
    url: str | None = None


@dataclass(frozen=True)
class Mail:
    """What a mail says, before it is rendered."""

    kind: str  # confirm, reply, decision, digest, queue_alert
    site_name: str
    language: str = "en"
    to: str = ""
    sender: str = ""
    quotes: list[Quote] = field(default_factory=list)
    # decision mails: "approved" or "rejected", and the reason the author may see.
    status: str | None = None
    public_reason: str | None = None
    action_url: str | None = None  # the confirmation link
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    numbers: dict = field(default_factory=dict)


def _strings(language: str) -> dict[str, str]:
    return STRINGS.get(language, STRINGS["en"])


def _lines(mail: Mail, s: dict[str, str]) -> tuple[str, list[tuple[str, str | None]]]:
    """The subject and the paragraphs (text, link or None) of a mail."""
    site = mail.site_name
    if mail.kind == "confirm":
        return s["confirm_subject"].format(site=site), [
            (s["confirm_intro"].format(site=site), None),
            (s["confirm_action"], mail.action_url),
            (s["confirm_ignore"], None),
        ]
    if mail.kind == "reply":
        quote = mail.quotes[0]
        return s["reply_subject"].format(author=quote.author, site=site), [
            (s["reply_intro"].format(author=quote.author), None),
            ("«" + quote.text + "»", None),
            (s["read"], quote.url),
        ]
    if mail.kind == "decision":
        published = mail.status == "approved"
        key = "decision_published" if published else "decision_rejected"
        paragraphs = [(s[key], None)]
        if not published and mail.public_reason:
            paragraphs.append((s["reason"].format(reason=mail.public_reason), None))
        if mail.quotes:
            paragraphs.append(("«" + mail.quotes[0].text + "»", None))
            if published:
                paragraphs.append((s["read"], mail.quotes[0].url))
        return s[key + "_subject"].format(site=site), paragraphs
    if mail.kind == "digest":
        paragraphs = [(s["digest_intro"], None)]
        for quote in mail.quotes:
            paragraphs.append((f"{quote.author}: «{quote.text}»", quote.url))
        return s["digest_subject"].format(count=len(mail.quotes), site=site), paragraphs
    if mail.kind == "queue_alert":
        count, minutes = mail.numbers.get("held", 0), mail.numbers.get("oldest_minutes", 0)
        return s["queue_subject"].format(site=site, count=count), [
            (s["queue_intro"].format(count=count, minutes=minutes), mail.action_url)
        ]
    raise ValueError(f"unknown mail kind {mail.kind!r}")


def build(mail: Mail) -> EmailMessage:
    """Render a mail as a multipart/alternative message (text and HTML) with its headers."""
    s = _strings(mail.language)
    subject, paragraphs = _lines(mail, s)
    stop = s["stop"].format(site=mail.site_name)
    rtl = mail.language == "he"
    text_parts = []
    for words, link in paragraphs:
        text_parts.append(f"{words}\n{link}" if link else words)
    if mail.unsubscribe_url:
        text_parts.append(f"--\n{stop}: {mail.unsubscribe_url}")
    text = "\n\n".join(text_parts) + "\n"
    direction = ' dir="rtl"' if rtl else ' dir="ltr"'
    body = []
    for words, link in paragraphs:
        # Everything readers wrote is plain text here, escaped: nothing of a comment is markup.
        escaped = html.escape(words)
        if link:
            body.append(f'<p><a href="{html.escape(link, quote=True)}">{escaped}</a></p>')
        else:
            body.append(f"<p>{escaped}</p>")
    if mail.unsubscribe_url:
        url = html.escape(mail.unsubscribe_url, quote=True)
        body.append(f'<hr><p><small><a href="{url}">{html.escape(stop)}</a></small></p>')
    language = "he" if rtl else "en"
    page = (
        f'<!doctype html><html lang="{language}"{direction}><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        f'<body{direction} style="direction:{"rtl" if rtl else "ltr"}">'
        + "".join(body)
        + "</body></html>"
    )
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((mail.site_name, mail.sender)) if mail.sender else ""
    message["To"] = mail.to
    message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        targets = [f"<{mail.unsubscribe_url}>"]
        if mail.unsubscribe_mailto:
            targets.append(f"<mailto:{mail.unsubscribe_mailto}?subject=unsubscribe>")
        message["List-Unsubscribe"] = ", ".join(targets)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    # After the parts exist: the email package moves Content-* headers onto the first part.
    message["Content-Language"] = language
    return message
