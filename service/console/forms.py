"""The console's forms as WTForms classes: what each page's inputs are and how they are read.

The forms parse and check what the browser sent (numbers, dates, ticked boxes, lists of lines);
the service layer then validates the settings themselves and names its errors as the inputs
are named ("policy.toxicity_hold"), so both kinds of error land next to the same field. Fields
whose HTML name has a dot carry it as `name=`; `field_errors` and `raw_values` key by it.

CSRF stays with CSRFProtect (service.web.auth), which checks every console POST before a view
runs and answers a bad token with its own page: these forms turn WTForms' CSRF field off.
"""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import Field, Form
from wtforms.validators import ValidationError

from service.core import bans

ALL_SITES = "*"
THRESHOLD_NAMES = ("toxicity_hold", "toxicity_reject", "spam_hold", "spam_reject")
RECORD_NAMES = (
    "trusted_after",
    "trusted_hold",
    "record_days",
    "rejection_rate_hold",
    "rejection_rate_min",
)
WORD_LIST_NAMES = ("banned_words", "suspect_words", "allowed_domains", "denied_domains")
RATE_LIMIT_NAMES = ("submit", "report", "delete", "vote")
ADVICE_OPTION_NAMES = ("days", "hold_tolerance", "reject_tolerance")


# --- Fields -----------------------------------------------------------------------------------


class TextField(Field):
    """One text input, read as typed ("" when absent); `strip` trims it."""

    def __init__(self, *args, strip: bool = True, **kwargs) -> None:
        """Make a text field; `strip=False` keeps the spaces around what was typed."""
        super().__init__(*args, default="", **kwargs)
        self.strip = strip

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read the first value sent under the field's name."""
        value = valuelist[0] if valuelist else ""
        self.data = value.strip() if self.strip else value

    def _value(self) -> str:
        return self.data or ""


class LinesField(TextField):
    """A textarea of one item a line: `data` is its non-empty lines, trimmed."""

    def __init__(self, *args, **kwargs) -> None:
        """Make a textarea field (the raw text is kept as `raw`)."""
        super().__init__(*args, strip=False, **kwargs)
        self.raw = ""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Split the text into its trimmed, non-empty lines."""
        self.raw = valuelist[0] if valuelist else ""
        self.data = [line.strip() for line in self.raw.splitlines() if line.strip()]


class TickField(Field):
    """A checkbox: ticked when the browser sent "on" for it."""

    def __init__(self, *args, **kwargs) -> None:
        """Make a checkbox field, unticked unless sent."""
        super().__init__(*args, default=False, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Tick the box when its first value is "on"."""
        self.data = bool(valuelist) and valuelist[0] == "on"


class ValuesField(Field):
    """Every value sent under one name (ticked checkboxes sharing it), in order."""

    def __init__(self, *args, **kwargs) -> None:
        """Make a multi-value field, empty unless sent."""
        super().__init__(*args, default=(), **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        """Keep all the values."""
        self.data = list(valuelist)


class NumberField(Field):
    """A number input read as `kind` (int or float), with the console's wording for bad input."""

    def __init__(self, *args, kind: type = int, optional: bool = False, **kwargs) -> None:
        """Make a number field; `optional` reads an empty input as None instead of an error."""
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.optional = optional

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the trimmed value, or raise the error shown next to the field."""
        raw = (valuelist[0] if valuelist else "").strip()
        if raw == "":
            self.data = None
            if not self.optional:
                raise ValueError("Enter a number.")
            return
        try:
            self.data = self.kind(raw)
        except ValueError:
            self.data = None
            whole = "Enter a whole number." if self.kind is int else "Enter a number, such as 0.6."
            raise ValueError(whole) from None


class ConsoleForm(FlaskForm):
    """A console POST form: CSRF is CSRFProtect's (checked before the view), not the form's.

    Views pass `formdata=request.form` explicitly: Flask-WTF's automatic choice would read a
    JSON body, or nothing from an empty form, where the console has always read the form.
    """

    class Meta:
        csrf = False

    def field_errors(self) -> dict[str, list[str]]:
        """Return the errors by the inputs' HTML names, in the form's field order."""
        return {field.name: list(field.errors) for field in self if field.errors}

    def raw_values(self) -> dict:
        """Return what was typed by HTML name, to show it again beside the errors."""
        values: dict = {}
        for field in self:
            if isinstance(field, TickField | ValuesField):
                values[field.name] = field.data
            elif field.raw_data:
                values[field.name] = field.raw_data[0]
            else:
                values[field.name] = ""
        return values


# --- Sites ------------------------------------------------------------------------------------


class SiteCreateForm(ConsoleForm):
    """The sites page's short form: a key, an optional name and the allowed origins."""

    key = TextField()
    name = TextField()
    allowed_origins = LinesField()

    def typed(self) -> dict[str, str]:
        """Return the inputs as typed (trimmed), to show them again."""
        return {
            "key": self.key.data,
            "name": self.name.data,
            "allowed_origins": self.allowed_origins.raw,
        }

    def settings(self) -> dict:
        """Return the new site's settings for sites.create_site."""
        data = {"key": self.key.data, "allowed_origins": self.allowed_origins.data}
        if self.name.data:  # left empty, the site is named by its key
            data["name"] = self.name.data
        return data


def _site_edit_fields() -> dict[str, Field]:
    """Return the edit form's fields by attribute name, each with its HTML name."""

    def policy(name: str) -> str:
        return f"policy__{name}"

    fields: dict[str, Field] = {
        "name": TextField(),
        "language": TextField(strip=False),
        "allowed_origins": LinesField(),
        "min_comment_length": NumberField(kind=int),
        "max_comment_length": NumberField(kind=int),
        "auto_close_days": NumberField(kind=int, optional=True),
        "edit_window_seconds": NumberField(kind=int),
        "sign_in": TextField(strip=False),
        "dislikes_enabled": TickField(),
        "queue_alert_minutes": NumberField(kind=int, optional=True),
        policy("mode"): TextField(name="policy.mode", strip=False),
    }
    for name in THRESHOLD_NAMES:
        fields[policy(name)] = NumberField(name=f"policy.{name}", kind=float)
    fields[policy("new_commenter_holds")] = NumberField(name="policy.new_commenter_holds")
    fields[policy("hold_links")] = TickField(name="policy.hold_links")
    fields[policy("velocity_limit")] = NumberField(name="policy.velocity_limit")
    for name in RECORD_NAMES:
        kind = float if name.endswith("_hold") else int
        fields[policy(name)] = NumberField(name=f"policy.{name}", kind=kind)
    for name in WORD_LIST_NAMES:
        fields[policy(name)] = LinesField(name=f"policy.{name}")
    for name in RATE_LIMIT_NAMES:
        fields[f"rate_limits__{name}"] = TextField(name=f"rate_limits.{name}")
    fields["moderators"] = ValuesField()
    return fields


class SiteEditForm(ConsoleForm):
    """Every setting of a site on its page; the service checks the values themselves."""

    def settings(self, shown: dict) -> dict:
        """Return the form as the service's settings for sites.update_site.

        Policy settings go only where they differ from the policy the form showed (`shown`,
        the effective one): a setting still at the configured default stays unset, and so
        keeps following that default if it changes.
        """
        posted = {
            name: self[f"policy__{name}"].data
            for name in (
                "mode",
                *THRESHOLD_NAMES,
                "new_commenter_holds",
                "hold_links",
                "velocity_limit",
                *RECORD_NAMES,
                *WORD_LIST_NAMES,
            )
        }
        return {
            "name": self["name"].data,
            "language": self["language"].data,
            "allowed_origins": self["allowed_origins"].data,
            "min_comment_length": self["min_comment_length"].data,
            "max_comment_length": self["max_comment_length"].data,
            "auto_close_days": self["auto_close_days"].data,
            "edit_window_seconds": self["edit_window_seconds"].data,
            "sign_in": self["sign_in"].data,
            "dislikes_enabled": self["dislikes_enabled"].data,
            "queue_alert_minutes": self["queue_alert_minutes"].data,
            # An empty limit (None) removes the site's own: it takes the configured default.
            "rate_limits": {
                name: self[f"rate_limits__{name}"].data or None for name in RATE_LIMIT_NAMES
            },
            "policy": {name: value for name, value in posted.items() if value != shown.get(name)},
        }

    def moderator_names(self) -> list[str]:
        """Return the ticked moderators' usernames."""
        return self["moderators"].data


for _attribute, _field in _site_edit_fields().items():
    setattr(SiteEditForm, _attribute, _field)


class PremoderationForm(ConsoleForm):
    """Switch one article's pre-moderation on or off from the site's page."""

    article = TextField()
    premoderated = TickField()


# --- Bans -------------------------------------------------------------------------------------


class BanForm(ConsoleForm):
    """Add a ban: whom (target and value), where (a site or all), how, until when and why.

    `until` is declared before `scope` so that the error summary lists them in that order.
    """

    target = TextField()
    value = TextField()
    until = TextField()
    scope = TextField()
    kind = TextField()
    reason = TextField()
    public_reason = TextField()
    reject_existing = TickField()

    def __init__(self, *args, is_operator: bool = False, **kwargs) -> None:
        """Make the form for a user; only operators may ban from all sites."""
        super().__init__(*args, **kwargs)
        self.is_operator = is_operator
        self.until_at: datetime | None = None

    def validate_until(self, field: Field) -> None:
        """Read the date as the last banned day (as the API does); empty is a permanent ban."""
        self.until_at = None
        if not field.data:
            return
        try:
            self.until_at = bans.parse_until(field.data)
        except ValueError:
            raise ValidationError("Enter a date, or leave it empty for a permanent ban.") from None

    def validate_scope(self, field: Field) -> None:
        """Require a site, or all sites for operators."""
        if not field.data:
            raise ValidationError("Choose a site, or all sites.")
        if field.data == ALL_SITES and not self.is_operator:
            raise ValidationError("Only operators can ban from all sites.")

    def typed(self) -> dict:
        """Return the inputs as typed (trimmed), to show them again."""
        return {field.name: field.data for field in self}

    def site_key(self) -> str | None:
        """Return the chosen site's key, or None for all sites."""
        return None if self.scope.data == ALL_SITES else self.scope.data


class BanLiftForm(ConsoleForm):
    """Lift a ban; the form carries the list's filters so the page comes back the same."""

    site = TextField(strip=False)
    show = TextField(strip=False)

    def filters(self) -> dict[str, str]:
        """Return the bans list's filters to keep."""
        keep = {}
        if self.site.data:
            keep["site"] = self.site.data
        if self.show.data == "all":
            keep["show"] = "all"
        return keep


class BanListFilterForm(Form):
    """The bans list's GET filters: a site and whether to show every state."""

    site = TextField(strip=False)
    show = TextField(strip=False)


# --- The operators' log -----------------------------------------------------------------------


class LogFilterForm(Form):
    """The log's GET filters: a kind of action (a prefix) and an actor."""

    action = TextField(strip=False)
    actor = TextField()


# --- Accounts ---------------------------------------------------------------------------------


class LoginForm(ConsoleForm):
    """Log in with a username and password."""

    username = TextField(strip=False)
    password = TextField(strip=False)


class TokenForm(ConsoleForm):
    """Create a personal API token with a name."""

    name = TextField(strip=False)


class PasswordForm(ConsoleForm):
    """Change one's password: the current one, and the new one twice."""

    current_password = TextField(strip=False)
    new_password = TextField(strip=False)
    confirm_password = TextField(strip=False)

    def validate_confirm_password(self, field: Field) -> None:
        """Require the two new passwords to be the same."""
        if field.data != self.new_password.data:
            raise ValidationError("The two new passwords differ. Type them again.")


# --- Threshold advice -------------------------------------------------------------------------


class AdviceOptionsForm(Form):
    """The advice's options (a GET form, or beside the apply form): days and two tolerances."""

    days = TextField()
    hold_tolerance = TextField()
    reject_tolerance = TextField()

    def options(self, defaults: dict[str, float]) -> dict[str, str]:
        """Return the options as typed, defaults where none was given."""
        return {name: self[name].data or f"{value:g}" for name, value in defaults.items()}


class AdviceApplyForm(ConsoleForm):
    """Apply the advice the operator read: the ticked thresholds and the advice's fingerprint."""

    thresholds = ValuesField()
    fingerprint = TextField(strip=False)

    def validate_thresholds(self, field: Field) -> None:
        """Require at least one threshold."""
        if not field.data:
            raise ValidationError("Tick the thresholds to change.")
