"""`/account`: the signed-in user's profile and password (CONTRACT.md "Account").
`/account/subscriptions` lives in suscripciones.routes.account."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ..guards import auth_required, current_session_id, current_usuario
from ..schemas import (
    MessageSchema,
    PasswordChangeSchema,
    ProfileUpdateSchema,
    UsuarioSchema,
    ValidCodeSchema,
    VerifyCodeSchema,
)
from ..services import account, throttle

blp = Blueprint("account", __name__, url_prefix="/account", description="The user's own account")


@blp.route("/profile", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required()
@blp.response(200, UsuarioSchema)
def get_profile():
    """The signed-in user."""
    return current_usuario()


@blp.route("/profile", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UsuarioSchema)
def update_profile(data):
    """Update the signed-in user's personal data."""
    return account.update_profile(current_usuario(), data)


@blp.route("/password/request-code", methods=["POST"])
@blp.doc(security=BEARER)
@throttle.per_ip
@throttle.user_email_requests
@auth_required()
@blp.response(202, MessageSchema)
def request_password_code():
    """Email a 6-digit code (10 minutes) to authorise a password change."""
    account.request_password_code(current_usuario())
    return {"message": "Enviamos un código a su correo."}


@blp.route("/password/verify-code", methods=["POST"])
@blp.doc(security=BEARER)
@throttle.per_ip
@throttle.user_failures
@auth_required()
@blp.arguments(VerifyCodeSchema)
@blp.response(200, ValidCodeSchema)
def verify_password_code(data):
    """Check the emailed code without using it."""
    return account.verify_password_code(current_usuario(), data["code"])


@blp.route("/password", methods=["POST"])
@blp.doc(security=BEARER)
@throttle.per_ip
@throttle.user_failures
@auth_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MessageSchema)
def change_password(data):
    """Change the password (2FA code or emailed code); other sessions end."""
    account.change_password(current_usuario(), data["current_password"],
                                    data["new_password"], data.get("otp_code"),
                                    data.get("verification_code"), current_session_id())
    return {"message": "Contraseña actualizada."}
