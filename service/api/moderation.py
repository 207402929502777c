"""The moderation API: queues, decisions, undo, events, audit and summary for signed-in users.

Callers authenticate with a personal API token (Authorization: Bearer) or the console's session
cookie (service.web.auth); a moderator sees and acts on their assigned sites only.
"""

from flask import jsonify
from flask.views import MethodView

from service.api import Blueprint, documented_errors
from service.core import articles, featured, moderation
from service.core.moderation import Period, StaleDecisionError
from service.core.moderation import edits as moderation_edits
from service.schemas import edits as edit_schemas
from service.schemas import moderation as schemas
from service.schemas.errors import ErrorSchema
from service.web import auth

SECURITY_SCHEME = "apiToken"
SECURITY = [{SECURITY_SCHEME: []}]

bp = Blueprint(
    "moderation",
    __name__,
    url_prefix="/api/v1/moderation",
    description="Moderators' queues and decisions (Authorization: Bearer <API token>, created "
    "on /console/account, or the console's session).",
)
bp.before_request(auth.require_api_user)


@bp.errorhandler(StaleDecisionError)
def _stale(error: StaleDecisionError):
    """409 with the comment's current status, so the console can show who got there first."""
    body = {
        "error": {"code": error.code, "message": error.message, "fields": {}},
        "current": error.current,
    }
    return jsonify(body), 409


def register(api) -> None:
    """Register the blueprint and its security scheme in the OpenAPI document."""
    api.spec.components.security_scheme(SECURITY_SCHEME, {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)


UNAUTHORIZED = "Missing, revoked or unknown API token, and no console session."
FORBIDDEN = "You don't moderate this site."


_errors = documented_errors(
    bp,
    {
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: "Unknown site, article, comment or queue.",
        422: "Invalid input; `fields` names it.",
    },
)


@bp.route("/queues/<string:queue>")
class Queue(MethodView):
    """A queue of comment cards."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.QueueQuerySchema, location="query")
    @bp.response(200, schemas.QueuePageSchema)
    @_errors(401, 403, 404, 422)
    def get(self, args, queue):
        """List a queue (held, reported, pending, approved, rejected) with every queue's count."""
        return moderation.list_queue(queue, auth.current_site_ids(), **args)


@bp.route("/comments/<int:comment_id>/decision")
class Decision(MethodView):
    """One moderator decision."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.DecisionSchema)
    @bp.response(200, schemas.DecisionResultSchema)
    @bp.alt_response(
        409,
        schema=schemas.StaleDecisionSchema,
        description="The comment is no longer in expected_status (or was deleted). Beside "
        '`error`, the body has `current`: {"status": ..., "decided_by": "moderator:<name>"}.',
    )
    @_errors(401, 403, 404, 422)
    def post(self, data, comment_id):
        """Approve or reject a comment, if it is still in the status you saw."""
        return moderation.decide(
            comment_id, actor=auth.current_actor(), site_ids=auth.current_site_ids(), **data
        )


@bp.route("/decisions")
class BulkDecisions(MethodView):
    """The same decision for many comments."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.BulkDecisionSchema)
    @bp.response(200, schemas.BulkResultsSchema)
    @_errors(401, 422)
    def post(self, data):
        """Approve or reject up to 100 comments, each applied (or refused) on its own."""
        results = moderation.decide_many(
            data["action"],
            data["items"],
            actor=auth.current_actor(),
            reason=data["reason"],
            note=data["note"],
            site_ids=auth.current_site_ids(),
        )
        return {"results": results}


@bp.route("/comments/<int:comment_id>/feature")
class Feature(MethodView):
    """A comment as an editors' pick, shown above its thread."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.FeatureResultSchema)
    @bp.alt_response(
        409, schema=ErrorSchema, description="Only a published (approved, not shadowed) comment."
    )
    @_errors(401, 403, 404)
    def put(self, comment_id):
        """Feature a published comment (again: it moves to the top of the picks); logged."""
        comment = featured.feature(
            comment_id, actor=auth.current_actor(), site_ids=auth.current_site_ids()
        )
        return featured.feature_dict(comment)

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.FeatureResultSchema)
    @_errors(401, 403, 404)
    def delete(self, comment_id):
        """Take a comment off the editors' picks (fine if it is not one); logged."""
        comment = featured.unfeature(
            comment_id, actor=auth.current_actor(), site_ids=auth.current_site_ids()
        )
        return featured.feature_dict(comment)


@bp.route("/comments/<int:comment_id>/undo")
class Undo(MethodView):
    """Taking a decision back."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.UndoneSchema)
    @bp.alt_response(
        409,
        schema=ErrorSchema,
        description="Nothing of yours to undo, the undo window passed, or the comment changed.",
    )
    @_errors(401, 403, 404)
    def post(self, comment_id):
        """Undo your own latest decision on a comment within TALKBACK_UNDO_SECONDS."""
        return moderation.undo(
            comment_id, actor=auth.current_actor(), site_ids=auth.current_site_ids()
        )


@bp.route("/events")
class Events(MethodView):
    """Status changes, for consoles that poll."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.EventsQuerySchema, location="query")
    @bp.response(200, schemas.EventsSchema)
    @_errors(401, 403, 404, 422)
    def get(self, args):
        """List status changes after an audit id (poll every few seconds with the last one)."""
        return moderation.events(args["after"], auth.current_site_ids(), site=args["site"])


@bp.route("/audit")
class Audit(MethodView):
    """The audit log."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.AuditQuerySchema, location="query")
    @bp.response(200, schemas.AuditPageSchema)
    @_errors(401, 403, 404, 422)
    def get(self, args):
        """List audit entries newest first, filtered by moderator, site and time."""
        return moderation.audit(
            auth.current_site_ids(),
            moderator=args["moderator"],
            site=args["site"],
            period=Period(args["since"], args["until"]),
            limit=args["limit"],
            cursor=args["cursor"],
        )


@bp.route("/summary")
class Summary(MethodView):
    """Moderators' work and overturned automatic decisions."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.SummaryQuerySchema, location="query")
    @bp.response(200, schemas.SummarySchema)
    @_errors(401, 403, 404, 422)
    def get(self, args):
        """Summarise decisions per moderator and how often they overturned the automatic ones."""
        return moderation.summary(
            auth.current_site_ids(), site=args["site"], period=Period(args["since"], args["until"])
        )


@bp.route("/sites/<string:site>/articles/<string:article>/premoderation")
class ArticlePremoderation(MethodView):
    """An article's pre-moderation, for hot stories."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.PremoderationSchema)
    @bp.response(200, schemas.ArticlePremoderationSchema)
    @_errors(401, 403, 404, 422)
    def put(self, data, site, article):
        """Switch pre-moderation of an article (created if it has no comment yet); logged."""
        switched = articles.set_premoderated(
            site,
            article,
            data["premoderated"],
            actor=auth.current_actor(),
            site_ids=auth.current_site_ids(),
        )
        return articles.article_dict(switched, site)


@bp.route("/sites/<string:site>/articles/<string:article>/closing")
class ArticleClosing(MethodView):
    """Closing an article to new comments by hand (its thread stays readable)."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.ClosingSchema)
    @bp.response(200, schemas.ArticlePremoderationSchema)
    @_errors(401, 403, 404, 422)
    def put(self, data, site, article):
        """Close an article to new comments, or reopen it; logged."""
        switched = articles.set_closed(
            site,
            article,
            data["closed"],
            actor=auth.current_actor(),
            site_ids=auth.current_site_ids(),
        )
        return articles.article_dict(switched, site)


@bp.route("/sites/<string:site>/premoderated-articles")
class PremoderatedArticles(MethodView):
    """A site's pre-moderated articles."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.PremoderatedArticlesSchema)
    @_errors(401, 403, 404)
    def get(self, site):
        """List the site's pre-moderated articles, the latest created first."""
        found = articles.premoderated_articles(site, site_ids=auth.current_site_ids())
        return {"articles": [articles.article_dict(article, site) for article in found]}


@bp.route("/edits")
class Edits(MethodView):
    """Authors' edits of published comments, for moderators to decide."""

    @bp.doc(security=SECURITY)
    @bp.arguments(edit_schemas.EditsQuerySchema, location="query")
    @bp.response(200, edit_schemas.EditsPageSchema)
    @_errors(401, 403, 404, 422)
    def get(self, args):
        """List edits in a status (held by default), each beside the comment's current text."""
        return moderation_edits.list_edits(auth.current_site_ids(), **args)


@bp.route("/edits/<int:revision_id>/decision")
class EditDecision(MethodView):
    """A moderator's decision on an edit."""

    @bp.doc(security=SECURITY)
    @bp.arguments(edit_schemas.EditDecisionSchema)
    @bp.response(200, edit_schemas.RevisionSchema)
    @bp.alt_response(
        409, schema=ErrorSchema, description="Already decided, or replaced by a newer edit."
    )
    @_errors(401, 403, 404, 422)
    def post(self, data, revision_id):
        """Approve (the comment's text is replaced) or reject (it keeps its text) an edit."""
        return moderation_edits.decide_edit(
            revision_id, actor=auth.current_actor(), site_ids=auth.current_site_ids(), **data
        )


@bp.route("/comments/<int:comment_id>/history")
class History(MethodView):
    """A comment's texts over time."""

    @bp.doc(security=SECURITY)
    @bp.response(200, edit_schemas.HistorySchema)
    @_errors(401, 403, 404)
    def get(self, comment_id):
        """Show a comment's original text and every edit with its decision."""
        return moderation_edits.comment_history(comment_id, auth.current_site_ids())
