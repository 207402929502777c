"""The admin API for sites: /api/v1/admin/sites and the operators' log (operators only)."""

from . import Blueprint

bp = Blueprint(
    "admin_sites",
    __name__,
    url_prefix="/api/v1/admin",
    description="Sites, their settings and moderators (operators; Authorization: Bearer <token>).",
)
