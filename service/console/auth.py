"""Console pages for accounts: log in, log out, and the account page with personal API tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from service.console import forms
from service.core import accounts, mail
from service.errors import TalkbackError
from service.web import auth, ratelimit

bp = Blueprint("console_auth", __name__, url_prefix="/console")
bp.after_request(auth.console_security_headers)

CONSOLE_HOME = "/console/"


def _home() -> str:
    """Where to land after login: the console's queues once they exist, else the account page."""
    adapter = current_app.url_map.bind("localhost")
    if adapter.test(CONSOLE_HOME, method="GET"):
        return CONSOLE_HOME
    return url_for("console_auth.account")


def _login_throttled(message: str) -> str:
    """The login page again, saying how long to wait (the body of a 429)."""
    return render_template(
        "console/login.html",
        next=auth.safe_next(request.values.get("next"), ""),
        username=request.form.get("username", ""),
        error=message,
    )


@bp.route("/login", methods=["GET", "POST"])
# Per IP address across all accounts: accounts.authenticate locks single accounts already.
@ratelimit.limited_login(_login_throttled)
def login():
    """Show the login form; on POST check the credentials and start a session."""
    next_path = auth.safe_next(request.values.get("next"), "")
    if request.method == "GET":
        if auth.current_user() is not None and auth.auth_method() == "session":
            return redirect(next_path or _home())
        return render_template("console/login.html", next=next_path, username="", error=None)
    form = forms.LoginForm(formdata=request.form)
    username = form.username.data
    try:
        user = accounts.authenticate(username, form.password.data, request.remote_addr)
    except accounts.AuthenticationError as error:
        # 200, as form pages do: a 401 would need a WWW-Authenticate challenge the form can't use.
        return render_template(
            "console/login.html", next=next_path, username=username, error=error.message
        )
    auth.log_in(user)
    return redirect(next_path or _home())


@bp.post("/logout")
def logout():
    """End the session (a POST with a CSRF token, so another site can't log you out)."""
    auth.log_out()
    return redirect(url_for("console_auth.login", logged_out=1))


def _account_page(status: int = 200, **extra):
    user = auth.current_user()
    page = render_template(
        "console/account.html",
        user=user,
        tokens=accounts.list_tokens(user),
        alert_email=mail.moderator_address(user) or "",
        queue_alerts=bool(getattr(mail.moderator_setting(user), "queue_alerts", False)),
        new_token=extra.pop("new_token", None),
        error=extra.pop("error", None),
        notice=extra.pop("notice", None),
    )
    return page, status


@bp.get("/account")
@auth.login_required
def account():
    """Show who is logged in, their sites and their API tokens."""
    notice = "Token revoked." if request.args.get("revoked") else None
    return _account_page(notice=notice)


@bp.post("/account/tokens")
@auth.login_required
def create_token():
    """Create an API token and show it once (only its hash is kept)."""
    try:
        name = forms.TokenForm(formdata=request.form).name.data
        api_token, token = accounts.create_token(auth.current_user(), name)
    except TalkbackError as error:
        return _account_page(422, error=error.message)
    # Rendered, not redirected: the token must never pass through the session or a URL.
    return _account_page(201, new_token={"name": api_token.name, "value": token})


@bp.post("/account/tokens/<int:token_id>/revoke")
@auth.login_required
def revoke_token(token_id: int):
    """Revoke one of the logged-in user's API tokens."""
    try:
        accounts.revoke_token(token_id, auth.current_user())
    except TalkbackError as error:
        return _account_page(404, error=error.message)
    return redirect(url_for("console_auth.account", revoked=1))


@bp.post("/account/alerts")
@auth.login_required
def save_alerts():
    """Opt in to (or out of) queue-alert mail, and the address it goes to."""
    email = (request.form.get("email") or "").strip()[:254] or None
    wanted = request.form.get("queue_alerts") == "on"
    try:
        mail.save_moderator_setting(auth.current_user(), email, wanted)
    except TalkbackError as error:
        return _account_page(422, error=error.message)
    return _account_page(notice="Queue alerts saved.")


@bp.post("/account/password")
@auth.login_required
def change_password():
    """Change the logged-in user's password (the current one is asked again)."""
    user = auth.current_user()
    form = forms.PasswordForm(formdata=request.form)
    try:
        accounts.authenticate(user.username, form.current_password.data, request.remote_addr)
        # Checked after the current password, which a wrong guess must not learn about first.
        if not form.validate():
            return _account_page(422, error=form.confirm_password.errors[0])
        accounts.set_password(user, form.new_password.data)
    except accounts.AuthenticationError as error:
        wrong = error.message == accounts.WRONG_CREDENTIALS
        return _account_page(
            422, error="Your current password is not right." if wrong else error.message
        )
    except TalkbackError as error:
        return _account_page(422, error=error.message)
    # set_password ended every session, this one included: start it again with the new version.
    auth.log_in(user)
    return _account_page(notice="Password changed. Your other sessions are logged out.")
