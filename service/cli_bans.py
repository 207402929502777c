"""`flask --app service bans add|list|lift`."""

from flask.cli import AppGroup

bans_cli = AppGroup("bans", help="Ban or suspend commenters, list bans and lift them.")
