"""`flask --app service privacy export|erase|purge`."""

from flask.cli import AppGroup

privacy_cli = AppGroup("privacy", help="Export or erase what is held about a commenter.")
