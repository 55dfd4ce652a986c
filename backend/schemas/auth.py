"""Bodies and answers of `/auth` (CONTRACT.md "Auth")."""
from __future__ import annotations

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from .base import BaseSchema
from .usuario import UsuarioSchema
from .validators import Email, Phone, Trimmed

_SECRET = {"format": "password"}


def is_text(value: str) -> bool:
    """False for a string UTF-8 cannot encode: JSON allows lone surrogates ("\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class InputSchema(BaseSchema):
    """A request body whose strings must be real text: a lone surrogate is a 422 naming the
    field, not a 500 from the database driver, the password hasher or the token signer."""

    @pre_load
    def _refuse_lone_surrogates(self, data, **kwargs):
        if isinstance(data, dict):
            bad = {_printable(key): ["No es texto Unicode válido."] for key, value in data.items()
                   if not is_text(key) or (isinstance(value, str) and not is_text(value))}
            if bad:
                raise ValidationError(bad)
        return data


def _printable(key: str) -> str:
    """A field name as it can be echoed in the error envelope ("\\ud800" escaped)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


class LoginEmail(fields.String):
    """An email as typed at sign-in: trimmed and lower-cased, not re-validated (a stored
    address that a newer validator would refuse must still sign in)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if not value:
            raise ValidationError("No puede estar vacío.")
        return value


class RegistroSchema(InputSchema):
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


class ConfirmarRegistroSchema(InputSchema):
    registro_token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"description": "The first TOTP code, or the emailed code."})


class LoginSchema(InputSchema):
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


class LoginOtpSchema(SecondFactorMixin, InputSchema):
    challenge_token = fields.String(required=True, validate=validate.Length(min=1, max=512))


class OtpActivateSchema(InputSchema):
    otp_code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class OtpActivatedSchema(BaseSchema):
    otp_enabled = fields.Boolean()
    backup_codes = fields.List(fields.String())


class OtpDisableSchema(SecondFactorMixin, InputSchema):
    password = fields.String(required=True, load_only=True, metadata=_SECRET)


class OtpStatusSchema(BaseSchema):
    otp_enabled = fields.Boolean()


class ForgotSchema(InputSchema):
    email = LoginEmail(required=True, validate=validate.Length(max=255))


class ResetSchema(InputSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    password = fields.String(required=True, load_only=True, metadata=_SECRET)
    otp_code = fields.String(validate=validate.Length(min=1, max=16),
                             metadata={"description": "Required when the account has 2FA on."})
    backup_code = fields.String(validate=validate.Length(min=1, max=32),
                                metadata={"description": "Instead of otp_code, a backup code."})


class MessageSchema(BaseSchema):
    message = fields.String()
