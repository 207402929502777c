"""The admin API for sites: /api/v1/admin/sites and the operators' log (operators only)."""

from flask.views import MethodView

from service.api import Blueprint, TalkbackParser, documented_errors
from service.api.moderation import SECURITY, UNAUTHORIZED
from service.core import operator_log, sites
from service.schemas import sites as schemas
from service.web import auth


class SitesParser(TalkbackParser):
    """The API's parser, naming nested fields as the service does ("policy.toxicity_hold")."""

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """Answer invalid input with the service's 422, not webargs' nested messages."""
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1:  # {location: {field: [...]}}
            messages = next(iter(messages.values()))
        raise sites.invalid(messages)


class SitesBlueprint(Blueprint):
    """A blueprint whose request parsing reports errors with dotted field names."""

    ARGUMENTS_PARSER = SitesParser()


bp = SitesBlueprint(
    "admin_sites",
    __name__,
    url_prefix="/api/v1/admin",
    description="Sites, their settings and moderators, and the operators' log (operators only; "
    "Authorization: Bearer <API token>, or the console's session).",
)
bp.before_request(auth.require_api_user)

FORBIDDEN = "Only operators can manage sites and read the operators' log."
bp.before_request(
    auth.operators_only(FORBIDDEN + " Ask an operator if something here needs changing.")
)

# Turn dislikes on and give votes a site limit of its own (the rest is kept).
UPDATE_EXAMPLE = {"dislikes_enabled": True, "rate_limits": {"vote": "30/minute;300/hour"}}


_errors = documented_errors(
    bp,
    {
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: "There is no site with this key.",
        409: "The key is taken, or the site is already in that state.",
        422: 'Invalid input; `fields` names it (nested settings as "policy.toxicity_hold").',
    },
)


@bp.route("/sites")
class Sites(MethodView):
    """Every site."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.SiteListSchema)
    @_errors(401, 403)
    def get(self):
        """List the sites by key, closed ones included, with every setting."""
        return {"sites": sites.site_dicts(sites.list_sites())}

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.SiteCreateSchema)
    @bp.response(201, schemas.SiteSchema)
    @_errors(401, 403, 409, 422)
    def post(self, data):
        """Create a site; settings left out take their defaults (no origins: not embeddable)."""
        return sites.site_dict(sites.create_site(data, actor=auth.current_actor()))


@bp.route("/sites/<string:key>")
class SiteItem(MethodView):
    """One site."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.SiteSchema)
    @_errors(401, 403, 404)
    def get(self, key):
        """Show a site with every setting, its effective policy and rate limits."""
        return sites.site_dict(sites.get_site(key))

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.SiteUpdateSchema, example=UPDATE_EXAMPLE)
    @bp.response(200, schemas.SiteSchema)
    @_errors(401, 403, 404, 422)
    def patch(self, data, key):
        """Change some settings; `policy` and `rate_limits` are merged (null: back to default)."""
        return sites.site_dict(sites.update_site(key, data, actor=auth.current_actor()))


@bp.route("/sites/<string:key>/close")
class CloseSite(MethodView):
    """Closing a site."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.SiteSchema)
    @_errors(401, 403, 404, 409)
    def post(self, key):
        """Close a site: no new comments; its threads stay readable."""
        return sites.site_dict(sites.close_site(key, actor=auth.current_actor()))


@bp.route("/sites/<string:key>/reopen")
class ReopenSite(MethodView):
    """Reopening a site."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.SiteSchema)
    @_errors(401, 403, 404, 409)
    def post(self, key):
        """Reopen a closed site: it takes comments again."""
        return sites.site_dict(sites.reopen_site(key, actor=auth.current_actor()))


@bp.route("/sites/<string:key>/moderators")
class SiteModerators(MethodView):
    """A site's moderators."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.ModeratorsSchema)
    @bp.response(200, schemas.SiteSchema)
    @_errors(401, 403, 404, 422)
    def put(self, data, key):
        """Replace the site's moderators (usernames of moderator accounts; [] for none)."""
        return sites.site_dict(
            sites.set_moderators(key, data["moderators"], actor=auth.current_actor())
        )


@bp.route("/actions")
class Actions(MethodView):
    """The operators' log."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.OperatorActionsQuerySchema, location="query")
    @bp.response(200, schemas.OperatorActionsSchema)
    @_errors(401, 403, 422)
    def get(self, args):
        """List operators' actions (sites, bans, privacy) newest first."""
        entries = operator_log.list_actions(
            action_prefix=args["action"],
            actor=args["actor"],
            since=args["since"],
            limit=args["limit"],
        )
        return {"actions": [operator_log.action_dict(entry) for entry in entries]}
