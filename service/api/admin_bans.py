"""The admin API for bans: /api/v1/admin/bans (operators everywhere, moderators on their sites).

Moderators add and lift bans on the sites they moderate, and see the all-site bans (which apply
there too) without being able to change them.
"""

from flask.views import MethodView

from service.api import Blueprint, documented_errors
from service.api.moderation import SECURITY, UNAUTHORIZED
from service.core import bans
from service.schemas import bans as schemas
from service.web import auth

bp = Blueprint(
    "admin_bans",
    __name__,
    url_prefix="/api/v1/admin",
    description="Bans and suspensions (Authorization: Bearer <API token>, or the console session).",
)
bp.before_request(auth.require_api_user)

ACTIVE = {"true": True, "false": False, "all": None}

# A ban as a moderator of the site `demo` (the demo site of `make run`) would send it.
BAN_EXAMPLE = {
    "site": "demo",
    "target": "email",
    "value": "troll@example.com",
    "kind": "hard",
    "until": "2030-07-01",
    "reason": "Abusive replies to other readers",
}


_errors = documented_errors(
    bp,
    {
        401: UNAUTHORIZED,
        403: "You don't moderate this site, or only operators may do this (all-site bans).",
        404: "Unknown ban, site or comment.",
        409: "The ban was lifted already.",
        422: "Invalid input; `fields` names it.",
    },
)


@bp.route("/bans")
class Bans(MethodView):
    """The bans the caller may see, and new bans."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.BanQuerySchema, location="query")
    @bp.response(200, schemas.BanListSchema)
    @_errors(401, 403, 404, 422)
    def get(self, args):
        """List bans newest first (by default those in force) on your sites and on all sites."""
        found = bans.list_bans(
            site_ids=auth.current_site_ids(),
            site_key=args["site"],
            active=ACTIVE[args["active"]],
            target=args["target"],
            limit=args["limit"],
        )
        return {"bans": [bans.ban_dict(ban) for ban in found]}

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.BanCreateSchema, example=BAN_EXAMPLE)
    @bp.response(201, schemas.BanSchema)
    @bp.alt_response(
        200,
        schema=schemas.BanSchema,
        description="An identical ban (same scope, target, kind and end) is already in force; "
        "it is returned unchanged (with reject_existing, its comments are rejected again).",
    )
    @_errors(401, 403, 404, 422)
    def post(self, data):
        """Ban a commenter key, email, IP address, network or email domain on a site or all."""
        site_ids = auth.current_site_ids()
        site_key = bans.resolve_scope(data["site"], data["all"], data["comment_id"], site_ids)
        ban, created = bans.add_ban(
            actor=auth.current_actor(),
            site_ids=site_ids,
            site_key=site_key,
            target=data["target"],
            value=data["value"],
            comment_id=data["comment_id"],
            kind=data["kind"],
            until=data["until"],
            reason=data["reason"],
            public_reason=data["public_reason"],
            reject_existing=data["reject_existing"],
        )
        return bans.ban_dict(ban), 201 if created else 200


@bp.route("/bans/<int:ban_id>")
class OneBan(MethodView):
    """One ban."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.BanSchema)
    @_errors(401, 403, 404)
    def get(self, ban_id):
        """Show a ban."""
        return bans.ban_dict(bans.get_ban(ban_id, site_ids=auth.current_site_ids()))


@bp.route("/bans/<int:ban_id>/lift")
class LiftBan(MethodView):
    """Ending a ban early."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.BanSchema)
    @_errors(401, 403, 404, 409)
    def post(self, ban_id):
        """Lift a ban now (an expired one too, for the record)."""
        return bans.ban_dict(
            bans.lift_ban(ban_id, actor=auth.current_actor(), site_ids=auth.current_site_ids())
        )
