"""Operator pages of the console: sites, bans and the operators' log."""

from flask import Blueprint

bp = Blueprint("console_admin", __name__, url_prefix="/console")
