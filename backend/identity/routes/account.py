"""`/account`: the signed-in user's profile, password and sessions (CONTRACT.md "Account").
`/account/subscriptions` lives in suscripciones.routes.account."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ..guards import auth_required, current_session_id, current_usuario
from ..schemas import (
    MessageSchema,
    PasswordChangeSchema,
    ProfileUpdateSchema,
    RevocadasSchema,
    RevokeOthersSchema,
    SesionSchema,
    UsuarioSchema,
    ValidCodeSchema,
    VerifyCodeSchema,
)
from ..services import account, account_sessions, throttle

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


@blp.route("/sessions", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required()
@blp.response(200, SesionSchema(many=True))
def list_sessions():
    """The signed-in user's live sessions (`actual` marks this one)."""
    return account_sessions.list_sessions(current_usuario(), current_session_id())


@blp.route("/sessions/<string:sesion_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required()
@blp.response(204)
@blp.alt_response(404, description="No live session of the signed-in user has this id.")
def end_session(sesion_id):
    """End one of the user's sessions: its access and refresh tokens stop working."""
    account_sessions.end_session(current_usuario(), sesion_id)


@blp.route("/sessions/revoke-others", methods=["POST"])
@blp.doc(security=BEARER)
@throttle.per_ip
@throttle.user_failures
@auth_required()
@blp.arguments(RevokeOthersSchema)
@blp.response(200, RevocadasSchema)
@blp.alt_response(401, description="`credenciales_invalidas`: wrong password (counted like a "
                  "wrong code); `no_autenticado`: no usable token.")
def revoke_other_sessions(data):
    """End every session of the user but this one, after the current password."""
    revocadas = account_sessions.end_other_sessions(current_usuario(), data["password"],
                                                    current_session_id())
    return {"revocadas": revocadas}
