"""`/auth`: registration, sign-in with optional TOTP, token refresh, logout, 2FA set-up and
password recovery (CONTRACT.md "Auth"). Throttling policy: identity.services.throttle."""
from __future__ import annotations

from flask import jsonify
from flask_jwt_extended import current_user, get_jwt, jwt_required

from ...core.api import BEARER, Blueprint
from .. import schemas as s
from ..guards import auth_required, current_session_id, current_usuario
from ..services import login as sign_in
from ..services import recovery, registration, throttle, two_factor

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-in, tokens and 2FA")


@blp.route("/registro", methods=["POST"])
@throttle.per_ip
@blp.arguments(s.RegistroSchema)
@blp.response(201, s.RegistroResponseSchema)
def registro(data):
    """Register a customer account (pending until confirmed by code)."""
    return registration.register(**data)


@blp.route("/registro/confirmar-otp", methods=["POST"])
@throttle.per_ip
@throttle.registro_failures
@blp.arguments(s.ConfirmarRegistroSchema)
@blp.response(200, s.TokenPairSchema)
def confirmar_registro(data):
    """Activate a registration with the emailed code (and the first TOTP code when 2FA was chosen).

    Without 2FA, `code` is the emailed code. With 2FA chosen at registration, `code` is the
    first TOTP code and `email_code` the emailed code: both are needed, so the email is proven
    either way. The account becomes active and `email_verificado` true."""
    return registration.confirm(data["registro_token"], data["code"], data.get("email_code"))


@blp.route("/registro/reenviar-codigo", methods=["POST"])
@throttle.per_ip
@throttle.registro_email_requests
@blp.arguments(s.ReenviarCodigoSchema)
@blp.response(202, s.ReenvioSchema)
@blp.alt_response(400, description="`token_invalido`: bad or expired token, or a deactivated "
                  "account (as /auth/registro/confirmar-otp).")
@blp.alt_response(409, description="`cuenta_activa`: already activated.")
@blp.alt_response(429, description="More than AUTH_RATE_EMAIL_REQUESTS (default 5 per 15 "
                  "minutes) for this account, or the per-IP limit; see `Retry-After`.")
def reenviar_codigo(data):
    """Email a new activation code for a pending registration (the previous code stops working).

    For pending accounts (/auth/registro, with or without `activar_otp`, or
    /public/suscripcion) whose code expired, was burnt or never arrived. `enviado` is false
    when the mail service is down (logged; ask again later)."""
    return {"enviado": registration.resend_code(data["registro_token"])}


@blp.route("/login", methods=["POST"])
@throttle.login_per_ip
@throttle.account_ip_failures
@throttle.account_failures
@blp.arguments(s.LoginSchema)
@blp.response(200, s.TokenPairSchema)
@blp.alt_response(202, schema=s.ChallengeSchema, description="2FA on: answer the challenge "
                  "at /auth/login/otp.")
def login(data):
    """Sign in with email and password."""
    answer, status = sign_in.login(data["email"], data["password"])
    if status == 202:
        response = jsonify(s.ChallengeSchema().dump(answer))
        response.status_code = 202
        return response
    return answer


@blp.route("/login/otp", methods=["POST"])
@throttle.login_per_ip
@throttle.account_ip_failures
@throttle.account_failures
@blp.arguments(s.LoginOtpSchema)
@blp.response(200, s.TokenPairSchema)
def login_otp(data):
    """Finish a 2FA sign-in with a TOTP or backup code."""
    return sign_in.login_otp(data["challenge_token"], data.get("otp_code"),
                                  data.get("backup_code"))


@blp.route("/refresh", methods=["POST"])
@blp.doc(security=BEARER, description="Send the refresh token as the bearer token.")
@jwt_required(refresh=True)
@blp.response(200, s.TokenPairSchema)
def refresh():
    """Rotate the refresh token and get a new token pair."""
    return sign_in.refresh(current_user, get_jwt())


@blp.route("/logout", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required()
@blp.response(204)
def logout():
    """End the current session."""
    sign_in.logout(current_session_id())


@blp.route("/otp/setup", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required()
@blp.response(200, s.OtpSetupSchema)
def otp_setup():
    """Start setting up TOTP: a new secret, its URI and QR code."""
    return two_factor.setup(current_usuario())


@blp.route("/otp/activate", methods=["POST"])
@blp.doc(security=BEARER)
@throttle.per_ip
@throttle.user_failures
@auth_required()
@blp.arguments(s.OtpActivateSchema)
@blp.response(200, s.OtpActivatedSchema)
def otp_activate(data):
    """Turn TOTP on with the current password and a first code; returns the backup codes once.

    401 `credenciales_invalidas` for a wrong password (counted like a wrong code)."""
    return two_factor.activate(current_usuario(), data["otp_code"], data["password"],
                               current_session_id())


@blp.route("/otp/disable", methods=["POST"])
@blp.doc(security=BEARER)
@throttle.per_ip
@throttle.user_failures
@auth_required()
@blp.arguments(s.OtpDisableSchema)
@blp.response(200, s.OtpStatusSchema)
def otp_disable(data):
    """Turn TOTP off (password and a TOTP or backup code).

    401 `credenciales_invalidas` for a wrong password, 400 `codigo_invalido` for a wrong code."""
    return two_factor.disable(current_usuario(), data["password"], data.get("otp_code"),
                            data.get("backup_code"), current_session_id())


@blp.route("/password/forgot", methods=["POST"])
@throttle.per_ip
@throttle.email_requests
@blp.arguments(s.ForgotSchema)
@blp.response(202, s.MessageSchema)
def password_forgot(data):
    """Email a password reset token (always 202)."""
    recovery.forgot(data["email"])
    return {"message": "Si la cuenta existe, enviamos un correo con instrucciones."}


@blp.route("/password/reset", methods=["POST"])
@throttle.per_ip
@throttle.reset_failures
@blp.arguments(s.ResetSchema)
@blp.response(200, s.MessageSchema)
def password_reset(data):
    """Set a new password with the emailed token (and a 2FA code when 2FA is on)."""
    recovery.reset(data["token"], data["password"], data.get("otp_code"),
                        data.get("backup_code"))
    return {"message": "Contraseña actualizada. Inicie sesión de nuevo."}
