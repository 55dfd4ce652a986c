"""Bodies and answers of `/auth` (CONTRACT.md "Auth")."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema
from .usuario import UsuarioSchema
from .validators import Email, Phone, Trimmed

_SECRET = {"format": "password"}


class LoginEmail(fields.String):
    """An email as typed at sign-in: trimmed and lower-cased, not re-validated (a stored
    address that a newer validator would refuse must still sign in)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if not value:
            raise ValidationError("No puede estar vacío.")
        return value


class RegistroSchema(BaseSchema):
    nombre = Trimmed(required=True, validate=validate.Length(max=150))
    email = Email(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, load_only=True, metadata=_SECRET)
    telefono = Phone(allow_none=True)
    activar_otp = fields.Boolean(load_default=False)


class OtpSetupSchema(BaseSchema):
    secret = fields.String()
    provisioning_uri = fields.String(metadata={"example": "otpauth://totp/..."})
    qr_svg = fields.String(metadata={"description": "The provisioning URI as an inline SVG QR code."})


class RegistroResponseSchema(BaseSchema):
    usuario = fields.Nested(UsuarioSchema)
    pendiente_activacion = fields.Boolean()
    registro_token = fields.String()
    otp = fields.Nested(OtpSetupSchema, metadata={"description": "Only when `activar_otp` was true."})


class ConfirmarRegistroSchema(BaseSchema):
    registro_token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"description": "The first TOTP code, or the emailed code."})


class ReenviarCodigoSchema(BaseSchema):
    registro_token = fields.String(required=True, validate=validate.Length(min=1, max=512),
                                   metadata={"description": "As answered by /auth/registro or "
                                             "/public/suscripcion."})


class ReenvioSchema(BaseSchema):
    enviado = fields.Boolean(metadata={
        "description": "True when the email was queued; false when the mail service failed "
                       "(the new code exists: ask again later)."})


class LoginSchema(BaseSchema):
    email = LoginEmail(required=True, validate=validate.Length(max=255))
    password = fields.String(required=True, load_only=True, metadata=_SECRET)


class TokenPairSchema(BaseSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds the access token lives."})
    usuario = fields.Nested(UsuarioSchema)
    backup_codes = fields.List(fields.String(), metadata={
        "description": "Only when confirming a registration with 2FA: shown this once."})


class ChallengeSchema(BaseSchema):
    requires_otp = fields.Boolean()
    challenge_token = fields.String()


class SecondFactorMixin:
    """`otp_code` or `backup_code`, exactly one."""

    otp_code = fields.String(validate=validate.Length(min=1, max=16))
    backup_code = fields.String(validate=validate.Length(min=1, max=32))

    @validates_schema
    def _one_factor(self, data, **kwargs):
        if bool(data.get("otp_code")) == bool(data.get("backup_code")):
            raise ValidationError("Envíe otp_code o backup_code (uno de los dos).", "otp_code")


class LoginOtpSchema(SecondFactorMixin, BaseSchema):
    challenge_token = fields.String(required=True, validate=validate.Length(min=1, max=512))


class OtpActivateSchema(BaseSchema):
    otp_code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class OtpActivatedSchema(BaseSchema):
    otp_enabled = fields.Boolean()
    backup_codes = fields.List(fields.String())


class OtpDisableSchema(SecondFactorMixin, BaseSchema):
    password = fields.String(required=True, load_only=True, metadata=_SECRET)


class OtpStatusSchema(BaseSchema):
    otp_enabled = fields.Boolean()


class ForgotSchema(BaseSchema):
    email = LoginEmail(required=True, validate=validate.Length(max=255))


class ResetSchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    password = fields.String(required=True, load_only=True, metadata=_SECRET)
    otp_code = fields.String(validate=validate.Length(min=1, max=16),
                             metadata={"description": "Required when the account has 2FA on."})
    backup_code = fields.String(validate=validate.Length(min=1, max=32),
                                metadata={"description": "Instead of otp_code, a backup code."})


class MessageSchema(BaseSchema):
    message = fields.String()
