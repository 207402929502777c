"""The admin API for a site's SSO keys: /api/v1/admin/sites/<key>/sso-keys (operators only)."""

from flask.views import MethodView

from service.api import Blueprint, documented_errors
from service.api.moderation import SECURITY, UNAUTHORIZED
from service.core import sso
from service.schemas import sso as schemas
from service.web import auth

bp = Blueprint(
    "admin_sso",
    __name__,
    url_prefix="/api/v1/admin",
    description="The keys a site's login signs reader sign-in tokens with (operators only).",
)
bp.before_request(auth.require_api_user)

FORBIDDEN = "Only operators can manage a site's sign-in keys."
bp.before_request(auth.operators_only(FORBIDDEN))


_errors = documented_errors(
    bp,
    {
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: "There is no such site, or no such key on it.",
        409: "The site already has a key with this kid.",
        422: "Invalid input; `fields` names it.",
    },
)


@bp.route("/sites/<string:key>/sso-keys")
class SsoKeys(MethodView):
    """A site's sign-in keys."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.SsoKeyListSchema)
    @_errors(401, 403, 404)
    def get(self, key):
        """List the site's keys, active and retired (never a secret)."""
        return {"keys": [sso.key_dict(item) for item in sso.list_keys(key)]}

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.SsoKeyCreateSchema)
    @bp.response(201, schemas.SsoKeyCreatedSchema)
    @_errors(401, 403, 404, 409, 422)
    def post(self, data, key):
        """Add a key: HS256 (the secret is shown once) or an RS256/ES256 public key."""
        added, secret = sso.add_key(
            key,
            data["algorithm"],
            actor=auth.current_actor(),
            kid=data["kid"],
            secret=data["secret"],
            public_key=data["public_key"],
        )
        return {**sso.key_dict(added), "secret": secret}


@bp.route("/sites/<string:key>/sso-keys/<string:kid>/retire")
class RetireSsoKey(MethodView):
    """Retiring a key (rotation's last step)."""

    @bp.doc(security=SECURITY)
    @bp.response(200, schemas.SsoKeySchema)
    @_errors(401, 403, 404)
    def post(self, key, kid):
        """Stop accepting tokens signed with this key; sessions already given run out."""
        return sso.key_dict(sso.retire_key(key, kid, actor=auth.current_actor()))
