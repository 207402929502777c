"""The admin API for threshold advice: /api/v1/admin/sites/{key}/threshold-advice.

Operators and the site's moderators read the advice; only operators apply it.
"""

from flask.views import MethodView

from service.api import Blueprint, documented_errors
from service.api.moderation import SECURITY, UNAUTHORIZED
from service.core import advice
from service.errors import ForbiddenError
from service.schemas import advice as schemas
from service.web import auth

bp = Blueprint(
    "admin_advice",
    __name__,
    url_prefix="/api/v1/admin",
    description="Threshold advice from moderators' decisions (operators, and the site's "
    "moderators for reading; Authorization: Bearer <API token>, or the console's session).",
)
bp.before_request(auth.require_api_user)

OPERATORS_ONLY = "Only operators can apply threshold advice."

_errors = documented_errors(
    bp,
    {
        401: UNAUTHORIZED,
        403: "You don't moderate this site, or (applying) you are not an operator.",
        404: "There is no site with this key.",
        409: "The advice changed since you read it (your `fingerprint` no longer matches).",
        422: "Invalid input, no suggestion for a threshold you named, or the site's checks "
        "refused the change; `fields` names it.",
    },
)


@bp.route("/sites/<string:key>/threshold-advice")
class ThresholdAdvice(MethodView):
    """A site's threshold advice."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.AdviceOptionsSchema, location="query")
    @bp.response(200, schemas.AdviceSchema)
    @_errors(401, 403, 404, 422)
    def get(self, args, key):
        """Suggest the site's thresholds from its moderators' decisions of the last N days."""
        return advice.threshold_advice(key, args, site_ids=auth.current_site_ids())


@bp.route("/sites/<string:key>/threshold-advice/apply")
class ApplyThresholdAdvice(MethodView):
    """Applying a site's threshold advice."""

    @bp.doc(security=SECURITY)
    @bp.arguments(schemas.AdviceApplySchema)
    @bp.response(200, schemas.AdviceAppliedSchema)
    @_errors(401, 403, 404, 409, 422)
    def post(self, data, key):
        """Apply the advice as computed now to the site's thresholds, logged with its figures."""
        if not auth.current_user().is_operator:
            raise ForbiddenError(OPERATORS_ONLY)
        return advice.apply_advice(key, data, actor=auth.current_actor())
