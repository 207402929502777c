"""Demo news pages that embed the reader widget exactly as a newsroom would.

The page is served from one origin and loads the widget from the other name of the same server
(localhost <-> 127.0.0.1, same port), so the widget's API calls are really cross-origin, as on a
news site; `make run` allows both origins for the site `demo`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request

from service.core import comments, sso
from service.errors import NotFoundError
from service.extensions import db
from service.models import Site, SsoKey

bp = Blueprint("demo", __name__)

DEMO_SITE = "demo"

# The other name of this machine, so the demo page and the comment host are different origins.
OTHER_HOST = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}


@dataclass(frozen=True)
class Story:
    """A demo article: where it lives and what it says."""

    article: str
    lang: str
    section: str
    headline: str
    byline: str
    dateline: str
    paragraphs: tuple[str, ...]


STORIES = {
    "en": Story(
        article="harbour-bridge-reopens",
        lang="en",
        section="City",
        headline="Harbour bridge reopens to traffic after two-year restoration",
        byline="By Dana Levi, Staff Reporter, with wire services",
        dateline="PORT CITY (Daily Demo Wire)",
        paragraphs=(
            "The city's harbour bridge reopened to cars, buses and cyclists on Monday morning, two "
            "years after engineers closed it to replace corroded steel cables and resurface its "
            "deck.",
            "Hundreds of residents walked the span at dawn before the first bus crossed at 6:00. "
            "The restoration cost 84 million, eleven percent more than budgeted, which the "
            "transport department attributed to steel prices and a six-week delay after storms "
            "last winter.",
            '"We promised a bridge that will stand for another century," the transport '
            "commissioner told reporters at the eastern approach. Commuters who spent two years "
            "on detours through the port district welcomed the news, though some questioned the "
            "new toll for heavy vehicles.",
            "A separate cycle lane, protected by a concrete barrier, opens next month. Night-time "
            "lane closures for final inspections will continue until the end of the year.",
        ),
    ),
    "he": Story(
        article="rakevet-hahof-nifteha",
        lang="he",
        section="חדשות",
        headline="רכבת החוף חוזרת לפעול במלואה לאחר שנה של עבודות",
        byline="מאת נועה כהן, כתבת התחבורה, וסוכנויות הידיעות",
        dateline="חיפה (סוכנות הדמו)",
        paragraphs=(
            "רכבות הנוסעים חזרו הבוקר לנסוע בקו החוף בין חיפה לתל אביב, לאחר שנה שבה הקו פעל "
            "באופן חלקי בלבד בשל עבודות חשמול והחלפת מסילות.",
            "מאות נוסעים המתינו ברציפים כבר בשעות הבוקר המוקדמות. עלות העבודות הגיעה ל-1.2 "
            "מיליארד שקל, כעשרה אחוזים יותר מהמתוכנן, בעיקר בגלל עיכובים באספקת ציוד.",
            "״הבטחנו קו מהיר ואמין יותר, והיום אנחנו עומדים בהבטחה״, אמר מנכ״ל החברה במסיבת "
            "עיתונאים בתחנת חוף הכרמל. נוסעים קבועים בירכו על החזרה לשגרה, אך חלקם התלוננו על "
            "הצפיפות בשעות העומס.",
            "בחודש הבא צפויות להיכנס לשירות רכבות קומותיים חדשות, ועבודות לילה לתחזוקת הקו "
            "יימשכו עד סוף השנה.",
        ),
    ),
}

# The English story, the one `make run` prints the API address of.
DEMO_ARTICLE = STORIES["en"].article
DEMO_TITLE = STORIES["en"].headline

# Other stories of the demo list page: (article id, headline); the first two have pages.
LIST_ITEMS = (
    (STORIES["en"].article, STORIES["en"].headline, "demo.article_page"),
    (STORIES["he"].article, STORIES["he"].headline, "demo.hebrew_page"),
    ("council-budget-vote", "Council delays budget vote over library closures", None),
    ("marathon-record", "Local runner breaks marathon course record in the heat", None),
    ("schools-heatwave", "Schools shorten the day as the heatwave continues", None),
)


def api_origin() -> str:
    """Return the comment host's origin for this request: the other name of the same server."""
    host, _, port = request.host.partition(":")
    other = OTHER_HOST.get(host, host)
    return f"{request.scheme}://{other}{':' + port if port else ''}"


def content_security_policy(api: str) -> str:
    """Return the demo pages' policy: scripts, styles and calls only from us and the API."""
    return (
        "default-src 'none'; "
        f"script-src 'self' {api}; "
        f"style-src 'self' {api}; "
        f"connect-src 'self' {api}; "
        "img-src 'self'; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


@bp.after_request
def _security_headers(response):
    response.headers["Content-Security-Policy"] = content_security_policy(api_origin())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def _require_demo_site() -> None:
    try:
        comments.find_site(DEMO_SITE)
    except NotFoundError:
        abort(404)


# The demo site's sign-in key: its HS256 secret derives from SECRET_KEY, so the demo page can
# sign a token as a publisher's login would without reading the stored (encrypted) secret.
DEMO_KID = "demo-reader"
DEMO_READER = {"sub": "demo-reader-1", "name": "Demo Reader", "badges": ["subscriber"]}


def _demo_secret() -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"talkback demo sign-in key", hashlib.sha256).hexdigest()


def demo_sso_token() -> str:
    """Sign a token for the demo reader, adding the demo site's key the first time."""
    site = db.session.scalar(db.select(Site).where(Site.key == DEMO_SITE))
    known = db.session.scalar(
        db.select(SsoKey.id).where(SsoKey.site_id == site.id, SsoKey.kid == DEMO_KID)
    )
    if known is None:
        sso.add_key(DEMO_SITE, "HS256", actor="demo", kid=DEMO_KID, secret=_demo_secret())
    return sso.make_token(_demo_secret(), DEMO_READER, kid=DEMO_KID)


def _render_story(story: Story):
    _require_demo_site()
    # ?reader=1: the page as a signed-in reader's (sign-in with the publisher's login).
    token = demo_sso_token() if request.args.get("reader") == "1" else ""
    return render_template(
        "demo.html",
        story=story,
        lang=story.lang,
        site=DEMO_SITE,
        api=api_origin(),
        sso_token=token,
    )


@bp.get("/demo")
def article_page():
    """Show the English demo article with the widget embedded."""
    return _render_story(STORIES["en"])


@bp.get("/demo/he")
def hebrew_page():
    """Show the Hebrew demo article (right to left) with the widget embedded."""
    return _render_story(STORIES["he"])


@bp.get("/demo/list")
def list_page():
    """Show a list of stories whose comment counts come from count.js."""
    _require_demo_site()
    return render_template(
        "demo_list.html", items=LIST_ITEMS, lang="en", site=DEMO_SITE, api=api_origin()
    )
