"""The public API that embedding pages call (DESIGN: public API contract v1)."""

from flask import Response, current_app, request
from flask.views import MethodView

from service.api import Blueprint
from service.core import comments, edits, live, reports, sso, threads, votes
from service.schemas.comments import (
    CommentEditSchema,
    CommentSubmitSchema,
    CountsQuerySchema,
    CountsSchema,
    DeleteTokenHeaderSchema,
    EditedSchema,
    LiveSchema,
    OwnCommentSchema,
    SessionRequestSchema,
    SessionSchema,
    SubmittedSchema,
    ThreadQuerySchema,
    ThreadSchema,
)
from service.schemas.errors import ErrorSchema
from service.schemas.reports import ReportReceivedSchema, ReportSubmitSchema
from service.schemas.votes import VoteCountsSchema, VoteSchema, VoteWithdrawSchema
from service.web import ratelimit
from service.web.fastread import live_cache_control, thread_cache_control
from service.web.reader import current_reader

bp = Blueprint(
    "public", __name__, url_prefix="/api/v1", description="Reading and writing comments."
)
# A signed-in reader's session (POST /sites/{site}/session), optional where it is documented.
READER_SCHEME = "readerSession"
READER_OPTIONAL = [{}, {READER_SCHEME: []}]


def register(api) -> None:
    """Register the blueprint and the reader session's security scheme."""
    api.spec.components.security_scheme(
        READER_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A reader session from POST /api/v1/sites/{site}/session.",
        },
    )
    api.register_blueprint(bp)


RATE_LIMITED = "Too many attempts from this address or commenter key on this site."
RATE_LIMITED_DELETE = "Too many deletes from this address on this site."
RATE_LIMITED_SIGN_IN = "Too many sign-ins from this address on this site."
SIGNED_OUT = (
    "The reader session is not valid or has expired (code session_expired), or the site takes "
    "this comment only from a signed-in reader (code sign_in_required)."
)
BAD_SESSION = "The Authorization header's reader session is not valid or has expired."
VOTE_CAP = "Too many readers from this address already voted on the comment."
SUBMIT_EXAMPLE = {
    "author_name": "Dana",
    "author_email": "dana@example.com",
    "body": "Thanks for the clear report on the harbour works.",
    "notify_replies": True,
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}


def documents_etag(view):
    """Document a view's ETag, If-None-Match and 304 as flask-smorest's own `etag` does.

    The view answers conditional requests itself, from the read cache: the decorator would hash
    the response again and set its own ETag.
    """
    view._apidoc = {**getattr(view, "_apidoc", {}), "etag": True}
    return view


@bp.route("/sites/<string:site>/articles/<string:article>/comments")
class ArticleComments(MethodView):
    """An article's comment thread."""

    @documents_etag
    # An instance, not the class: webargs would build a new schema on every read.
    @bp.arguments(ThreadQuerySchema(), location="query")
    @bp.response(200, ThreadSchema)
    @bp.alt_response(404, schema=ErrorSchema, description="Unknown site.")
    def get(self, args, site, article):
        """Read approved comments, threaded, a page of top-level comments at a time."""
        page = threads.thread_page(site, article, args["sort"], args["limit"], args["cursor"])
        unchanged = request.if_none_match.contains(page.etag)
        response = Response(
            None if unchanged else page.body,
            status=304 if unchanged else 200,
            mimetype="application/json",
        )
        response.set_etag(page.etag)
        response.headers["Cache-Control"] = thread_cache_control(current_app.config)
        return response

    # Outermost: every attempt counts, before the body is even parsed.
    @ratelimit.limited("submit")
    @bp.doc(security=READER_OPTIONAL)
    @bp.arguments(CommentSubmitSchema, example=SUBMIT_EXAMPLE)
    @bp.response(202, SubmittedSchema)
    @bp.alt_response(401, schema=ErrorSchema, description=SIGNED_OUT)
    @bp.alt_response(403, schema=ErrorSchema, description="The commenter is banned here.")
    @bp.alt_response(404, schema=ErrorSchema, description="Unknown site or parent comment.")
    @bp.alt_response(409, schema=ErrorSchema, description="The article is closed.")
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED, headers=RETRY_AFTER)
    def post(self, data, site, article):
        """Submit a comment or a reply; it is published once moderation approves it.

        A signed-in reader sends `Authorization: Bearer <session>`: the name (and email) come
        from the session, whatever the body says.
        """
        reader = current_reader(site)
        client = comments.Client(
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
            referrer=request.headers.get("Referer"),
        )
        return comments.submit_comment(site, article, data, client, reader)


@bp.route("/sites/<string:site>/articles/<string:article>/live")
class ArticleLive(MethodView):
    """Whether an article's thread has new comments, for open pages that poll."""

    @documents_etag
    @bp.response(200, LiveSchema)
    @bp.alt_response(404, schema=ErrorSchema, description="Unknown site.")
    @bp.alt_response(422, schema=ErrorSchema, description="Invalid site key or article id.")
    def get(self, site, article):
        """The approved comment count and the latest approved id; poll with If-None-Match."""
        state = live.live_state(site, article)
        unchanged = request.if_none_match.contains(state.etag)
        response = Response(
            None if unchanged else state.body,
            status=304 if unchanged else 200,
            mimetype="application/json",
        )
        response.set_etag(state.etag)
        response.headers["Cache-Control"] = live_cache_control(current_app.config)
        return response


@bp.route("/comments/<int:comment_id>")
class OwnComment(MethodView):
    """A comment as its author sees it, with the delete token from submission."""

    @bp.doc(security=READER_OPTIONAL)
    @bp.arguments(DeleteTokenHeaderSchema, location="headers", as_kwargs=True)
    @bp.response(200, OwnCommentSchema)
    @bp.alt_response(401, schema=ErrorSchema, description=BAD_SESSION)
    @bp.alt_response(403, schema=ErrorSchema, description="Missing or wrong delete token.")
    @bp.alt_response(404, schema=ErrorSchema, description="No such comment.")
    def get(self, comment_id, token):
        """Show the author their comment in any status, with the moderation reasons and the
        state of their latest edit (the delete token, or the signed-in author's
        `Authorization: Bearer <session>`)."""
        return edits.own_comment(comment_id, token, current_reader(None))

    # Outermost: every attempt counts. An edit is new text: the site's submit limit applies.
    @ratelimit.limited("submit", by_commenter_key=False)
    @bp.doc(security=READER_OPTIONAL)
    @bp.arguments(DeleteTokenHeaderSchema, location="headers", as_kwargs=True)
    @bp.arguments(CommentEditSchema)
    @bp.response(202, EditedSchema)
    @bp.alt_response(401, schema=ErrorSchema, description=SIGNED_OUT)
    @bp.alt_response(403, schema=ErrorSchema, description="Missing or wrong delete token.")
    @bp.alt_response(404, schema=ErrorSchema, description="No such comment.")
    @bp.alt_response(
        409,
        schema=ErrorSchema,
        description="The edit window has passed, editing is off on the site, or the comment "
        "was deleted or not published.",
    )
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED, headers=RETRY_AFTER)
    def patch(self, data, comment_id, token):
        """Edit the comment within the site's edit window; the new text is moderated like a
        new comment while readers keep the approved one."""
        return edits.edit_comment(comment_id, token, data, current_reader(None))

    @ratelimit.limited("delete", by_commenter_key=False)
    @bp.doc(security=READER_OPTIONAL)
    @bp.arguments(DeleteTokenHeaderSchema, location="headers", as_kwargs=True)
    @bp.response(204)
    @bp.alt_response(401, schema=ErrorSchema, description=BAD_SESSION)
    @bp.alt_response(403, schema=ErrorSchema, description="Missing or wrong delete token.")
    @bp.alt_response(404, schema=ErrorSchema, description="No such comment.")
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED_DELETE, headers=RETRY_AFTER)
    def delete(self, comment_id, token):
        """Delete the comment (delete token or the signed-in author's session); a tombstone
        stays while it has published replies."""
        comments.delete_own_comment(comment_id, token, current_reader(None))


@bp.route("/sites/<string:site>/session")
class ReaderSession(MethodView):
    """Sign-in with the publisher's login: a signed token exchanged for a reader session."""

    @ratelimit.limited("sign_in", by_commenter_key=False)
    @bp.arguments(SessionRequestSchema)
    @bp.response(200, SessionSchema)
    @bp.alt_response(
        401,
        schema=ErrorSchema,
        description="The token is refused; the message says why (expired, already used, ...).",
    )
    @bp.alt_response(404, schema=ErrorSchema, description="Unknown site.")
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED_SIGN_IN, headers=RETRY_AFTER)
    @bp.alt_response(503, schema=ErrorSchema, description="Redis is down: try again shortly.")
    def post(self, data, site):
        """Exchange a publisher-signed token (used once) for a reader session."""
        comments.check_site_key(site)
        return sso.start_session(site, data["token"])

    @bp.doc(security=READER_OPTIONAL)
    @bp.response(204)
    @bp.alt_response(401, schema=ErrorSchema, description=BAD_SESSION)
    @bp.alt_response(404, schema=ErrorSchema, description="Unknown site.")
    def delete(self, site):
        """Sign out: check the session, if any; the widget forgets it (sessions are stateless)."""
        comments.find_site(site)
        current_reader(site)


@bp.route("/comments/<int:comment_id>/reports")
class CommentReports(MethodView):
    """Readers' reports of a published comment."""

    @ratelimit.limited("report")
    @bp.arguments(ReportSubmitSchema)
    @bp.response(202, ReportReceivedSchema)
    @bp.alt_response(404, schema=ErrorSchema, description="No such published comment.")
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED, headers=RETRY_AFTER)
    def post(self, data, comment_id):
        """Report a published comment to moderators; a repeat by the same reader counts once."""
        reports.report_comment(comment_id, data, request.remote_addr)
        return {"status": "received"}


@bp.route("/comments/<int:comment_id>/vote")
class CommentVote(MethodView):
    """A reader's like or dislike of a published comment."""

    @ratelimit.limited("vote")
    @bp.doc(security=READER_OPTIONAL)
    @bp.arguments(VoteSchema)
    @bp.response(200, VoteCountsSchema)
    @bp.alt_response(401, schema=ErrorSchema, description=BAD_SESSION)
    @bp.alt_response(403, schema=ErrorSchema, description=VOTE_CAP)
    @bp.alt_response(404, schema=ErrorSchema, description="No such published comment.")
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED, headers=RETRY_AFTER)
    def put(self, data, comment_id):
        """Like or dislike a comment (replacing the reader's earlier vote); one per reader."""
        voter = votes.voter_of(current_reader(None), data["commenter_key"])
        return votes.cast_vote(comment_id, voter, data["value"], request.remote_addr)

    @ratelimit.limited("vote")
    @bp.doc(security=READER_OPTIONAL)
    @bp.arguments(VoteWithdrawSchema)
    @bp.response(200, VoteCountsSchema)
    @bp.alt_response(401, schema=ErrorSchema, description=BAD_SESSION)
    @bp.alt_response(404, schema=ErrorSchema, description="No such published comment.")
    @bp.alt_response(429, schema=ErrorSchema, description=RATE_LIMITED, headers=RETRY_AFTER)
    def delete(self, data, comment_id):
        """Take the reader's vote back (answers the counts even if there was none)."""
        voter = votes.voter_of(current_reader(None), data["commenter_key"])
        return votes.withdraw_vote(comment_id, voter)


@bp.route("/sites/<string:site>/counts")
class Counts(MethodView):
    """Comment counts for list pages."""

    @bp.arguments(CountsQuerySchema(), location="query")
    @bp.response(200, CountsSchema)
    @bp.alt_response(404, schema=ErrorSchema, description="Unknown site.")
    def get(self, args, site):
        """Count approved comments for several articles at once (?articles=a,b,c)."""
        return {"counts": threads.count_comments(site, args["articles"])}
