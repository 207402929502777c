"""A server-rendered demo article page with its approved comments and a plain form."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from . import comments, threads
from .errors import TalkbackError
from .schemas.comments import CommentSubmitSchema

bp = Blueprint("demo", __name__)

DEMO_SITE = "demo"
DEMO_ARTICLE = "harbour-bridge-reopens"
DEMO_TITLE = "Harbour bridge reopens to traffic after two-year restoration"

# Only our own stylesheet, no scripts at all: the page works under the strictest policy.
DEMO_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


@bp.after_request
def _security_headers(response):
    response.headers["Content-Security-Policy"] = DEMO_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _back_to_form():
    return redirect(url_for("demo.article_page") + "#comment-form")


@bp.get("/demo")
def article_page():
    """Show the demo article and its approved comments."""
    sort = "oldest" if request.args.get("sort") == "oldest" else "newest"
    cursor = request.args.get("cursor") or None
    page = threads.get_thread(DEMO_SITE, DEMO_ARTICLE, sort, 20, cursor)
    return render_template(
        "demo.html",
        page=page,
        sort=sort,
        title=DEMO_TITLE,
        site=DEMO_SITE,
        article=DEMO_ARTICLE,
    )


@bp.post("/demo")
def post_comment():
    """Submit the demo form through the same service as the API."""
    fields = {
        key: value.strip()
        for key, value in request.form.items()
        if key in {"author_name", "author_email", "title", "body"} and value.strip()
    }
    try:
        data = CommentSubmitSchema().load(
            {
                **fields,
                "article_url": url_for("demo.article_page", _external=True),
                "article_title": DEMO_TITLE,
            }
        )
        submitted = comments.submit_comment(
            DEMO_SITE, DEMO_ARTICLE, data, comments.Client(ip=request.remote_addr)
        )
    except ValidationError as error:
        for field, messages in error.normalized_messages().items():
            flash(f"{field.replace('_', ' ').capitalize()}: {' '.join(messages)}", "error")
        return _back_to_form()
    except TalkbackError as error:
        flash(error.message, "error")
        return _back_to_form()
    flash(
        f"Thanks! Comment #{submitted.id} is awaiting moderation and will appear here once "
        f"approved. To delete it later, keep this token: {submitted.delete_token}",
        "success",
    )
    return _back_to_form()
