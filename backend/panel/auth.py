"""Signing in to the staff panel: `/panel/login` (email and password), `/panel/login/otp`
(the TOTP or a backup code when the staff member has 2FA on) and `/panel/logout`. The same
rules as the API's sign-in (identity.services.login) and the same throttling
(identity.services.throttle, which reads these forms' `email` and `challenge_token`);
failures answer 401/403/429 pages so the failure-only limits count them."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_admin.form import SecureForm
from flask_limiter.errors import RateLimitExceeded
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..core.errors import ApiError, retry_after_seconds
from ..identity import panel_session
from ..identity.services import access_log, throttle
from ..identity.services import login as sign_in

bp = Blueprint("panel_auth", __name__, url_prefix="/panel")


class LoginForm(SecureForm):
    email = StringField("Correo", validators=[InputRequired(), Length(max=255)])
    password = PasswordField("Contraseña", validators=[InputRequired(), Length(max=128)])
    next = HiddenField()


class OtpForm(SecureForm):
    challenge_token = HiddenField(validators=[InputRequired(), Length(max=512)])
    otp_code = StringField("Código de la aplicación", validators=[Length(max=16)])
    backup_code = StringField("o un código de respaldo", validators=[Length(max=32)])
    next = HiddenField()


class LogoutForm(SecureForm):
    pass


def csrf_token() -> str:
    """A CSRF token for a hand-written panel form (the sign-out button in every page)."""
    return LogoutForm().csrf_token.current_token


def _safe_next(value: str | None) -> str:
    """Only a path inside the panel: never another host (no open redirect)."""
    parts = urlsplit(value or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/panel") \
            or parts.path.startswith("/panel/login"):
        return url_for("panel.index")
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _page(template: str, form, status: int = 200, error: str | None = None):
    return render_template(template, form=form, error=error), status


@bp.get("/login")
def login():
    """The sign-in page (an active session goes straight to the dashboard)."""
    if panel_session.current_staff() is not None:
        return redirect(url_for("panel.index"))
    return _page("panel/login.html", LoginForm(next=request.args.get("next", "")))


@bp.post("/login")
@throttle.login_per_ip
@throttle.account_ip_failures
@throttle.account_failures
def login_submit():
    """Check email and password; then the dashboard, or the second step with 2FA on."""
    form = LoginForm(request.form)
    if not form.validate():
        return _page("panel/login.html", form, 400, "Revise los datos del formulario.")
    try:
        usuario = sign_in.authenticate(form.email.data, form.password.data)
    except ApiError as exc:
        return _page("panel/login.html", form, exc.status, exc.message)
    if not usuario.is_staff:
        access_log.record_now(access_log.LOGIN, False, usuario=usuario, detalle="panel_sin_rol")
        return _page("panel/login.html", form, 403,
                     "El panel es solo para el personal de administración y soporte.")
    if usuario.otp_enabled:
        otp_form = OtpForm(challenge_token=sign_in.issue_challenge(usuario), next=form.next.data)
        return _page("panel/otp.html", otp_form)
    panel_session.start(usuario, "password")
    return redirect(_safe_next(form.next.data))


@bp.post("/login/otp")
@throttle.login_per_ip
@throttle.account_ip_failures
@throttle.account_failures
def otp_submit():
    """The second step: a TOTP code or a backup code; the challenge works once."""
    form = OtpForm(request.form)
    if not form.validate() or not (form.otp_code.data or form.backup_code.data):
        return _page("panel/otp.html", form, 400, "Escriba el código de su aplicación o uno de respaldo.")
    try:
        usuario, how = sign_in.answer_challenge(form.challenge_token.data,
                                                form.otp_code.data or None,
                                                form.backup_code.data or None)
    except ApiError as exc:
        if exc.code == "desafio_invalido":
            return _page("panel/login.html", LoginForm(next=form.next.data), exc.status,
                         "La verificación venció o ya se usó; inicie sesión de nuevo.")
        return _page("panel/otp.html", form, exc.status, exc.message)
    if not usuario.is_staff:
        return _page("panel/login.html", LoginForm(), 403,
                     "El panel es solo para el personal de administración y soporte.")
    panel_session.start(usuario, how)
    return redirect(_safe_next(form.next.data))


@bp.post("/logout")
def logout():
    """End the panel session (the form carries its CSRF token)."""
    if LogoutForm(request.form).validate():
        panel_session.end()
    return redirect(url_for("panel_auth.login"))


@bp.errorhandler(RateLimitExceeded)
def _throttled(exc):
    response = render_template("panel/login.html", form=LoginForm(),
                               error="Demasiados intentos; espere unos minutos.")
    seconds = retry_after_seconds(exc)
    headers = {"Retry-After": str(seconds)} if seconds is not None else {}
    return response, 429, headers
