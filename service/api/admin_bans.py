"""The admin API for bans: /api/v1/admin/bans (operators everywhere, moderators on their sites)."""

from . import Blueprint

bp = Blueprint(
    "admin_bans",
    __name__,
    url_prefix="/api/v1/admin",
    description="Bans and suspensions (Authorization: Bearer <API token>, or the console session).",
)
