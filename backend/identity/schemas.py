"""Bodies and answers of `/auth`, `/account` and `/admin/usuarios`, and the contract's
`usuario` object (never a hash, secret or code)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from ..core.pagination import CursorPaginationArgs
from ..core.schemas import BaseSchema, EnumValue, Id, UTCDateTime
from ..core.validators import (
    NOT_BLANK_PATTERN,
    Country,
    Email,
    NewPassword,
    Password,
    Phone,
    Trimmed,
    email_key,
)
from .models import Rol


class UsuarioSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    nombre = fields.String()
    email = fields.String()
    rol = EnumValue(Rol)
    empresa_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean()
    otp_enabled = fields.Boolean()
    telefono = fields.String(allow_none=True)
    direccion = fields.String(allow_none=True)
    ciudad = fields.String(allow_none=True)
    pais = fields.String(allow_none=True)
    fecha_nacimiento = fields.Date(allow_none=True)
    email_verificado = fields.Boolean()
    created_at = UTCDateTime(dump_only=True)


class LoginEmail(fields.String):
    """An email as typed at sign-in: in its `email_key` form, not re-validated (a stored
    address that a newer validator would refuse must still sign in)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": NOT_BLANK_PATTERN, "example": "ana@example.com",
                                   "description": "Trimmed and lower-cased; not blank.",
                                   **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = email_key(super()._deserialize(value, attr, data, **kwargs))
        if not value:
            raise ValidationError("No puede estar vacío.")
        return value


class RegistroSchema(BaseSchema):
    nombre = Trimmed(required=True, validate=validate.Length(max=150))
    email = Email(required=True, validate=validate.Length(max=255))
    password = NewPassword(required=True)
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
    code = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={
        "description": "The emailed code; when 2FA was chosen at registration, the first TOTP code."})
    email_code = fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "Required when 2FA was chosen at registration: the emailed code (the "
                       "email must be proven too)."})


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
    password = Password(required=True)


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
    password = Password(required=True, metadata={
        "description": "The current password: changing 2FA re-authenticates."})


class OtpActivatedSchema(BaseSchema):
    otp_enabled = fields.Boolean()
    backup_codes = fields.List(fields.String())


class OtpDisableSchema(SecondFactorMixin, BaseSchema):
    password = Password(required=True)


class OtpStatusSchema(BaseSchema):
    otp_enabled = fields.Boolean()


class ForgotSchema(BaseSchema):
    email = LoginEmail(required=True, validate=validate.Length(max=255))


class ResetSchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=512))
    password = NewPassword(required=True)
    otp_code = fields.String(validate=validate.Length(min=1, max=16),
                             metadata={"description": "Required when the account has 2FA on."})
    backup_code = fields.String(validate=validate.Length(min=1, max=32),
                                metadata={"description": "Instead of otp_code, a backup code."})


class MessageSchema(BaseSchema):
    message = fields.String()


# ---------------------------------------------------------------- /account

class ProfileUpdateSchema(BaseSchema):
    """Personal fields only. `email`, `rol` and `empresa_id` are accepted and ignored (the
    SPA may send the whole `usuario` back); they are not changed here."""

    nombre = Trimmed(required=False, validate=validate.Length(min=1, max=150))
    telefono = Phone(allow_none=True)
    direccion = fields.String(allow_none=True, validate=validate.Length(max=255))
    ciudad = fields.String(allow_none=True, validate=validate.Length(max=120))
    pais = Country(allow_none=True)
    fecha_nacimiento = fields.Date(allow_none=True)
    email = fields.Raw(load_only=True, metadata={"description": "Ignored."})
    rol = fields.Raw(load_only=True, metadata={"description": "Ignored."})
    empresa_id = fields.Raw(load_only=True, metadata={"description": "Ignored."})


class VerifyCodeSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class ValidCodeSchema(BaseSchema):
    valid = fields.Boolean()


class PasswordChangeSchema(BaseSchema):
    current_password = Password(required=True)
    new_password = NewPassword(required=True)
    otp_code = fields.String(validate=validate.Length(min=1, max=16),
                             metadata={"description": "Required when 2FA is on."})
    verification_code = fields.String(validate=validate.Length(min=1, max=16), metadata={
        "description": "The emailed code (/account/password/request-code) when 2FA is off."})


class SesionSchema(BaseSchema):
    id = fields.String(metadata={"description": "The session id (the `sid` of its tokens)."})
    created_at = UTCDateTime(metadata={"description": "When it was signed in."})
    last_used_at = UTCDateTime(allow_none=True, metadata={
        "description": "When its tokens were last issued (sign-in or refresh)."})
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    actual = fields.Boolean(metadata={"description": "True for the session of this request."})


class RevokeOthersSchema(BaseSchema):
    password = Password(required=True, metadata={
        "description": "The current password: ending the other sessions re-authenticates."})


class RevocadasSchema(BaseSchema):
    revocadas = fields.Integer(metadata={"description": "How many sessions were ended."})


# ---------------------------------------------------------------- /admin/usuarios

class AdminUsuarioSchema(BaseSchema):
    """Create body: a user created by staff is active and needs no activation."""

    nombre = Trimmed(required=True, validate=validate.Length(max=150))
    email = Email(required=True)
    password = NewPassword(required=True)
    rol = EnumValue(Rol, load_default=Rol.CLIENTE)
    empresa_id = Id(allow_none=True)
    telefono = Phone(allow_none=True)
    is_active = fields.Boolean(load_default=True)


class AdminUsuarioUpdateSchema(BaseSchema):
    """PUT body: any subset; the password changes only through `cambiar-password`."""

    nombre = Trimmed(validate=validate.Length(min=1, max=150))
    email = Email()
    rol = EnumValue(Rol)
    empresa_id = Id(allow_none=True)
    telefono = Phone(allow_none=True)
    is_active = fields.Boolean()


class UsuarioQuerySchema(CursorPaginationArgs):
    q = fields.String(metadata={"description": (
        "Words, each the beginning of a word of the name or the email (accents and case "
        "ignored; every word must match). An email may be pasted whole, or its domain. No word "
        "at all (only punctuation) matches nothing.")})
    rol = EnumValue(Rol)
    empresa_id = Id()
    is_active = fields.Boolean()


class NuevaPasswordSchema(BaseSchema):
    password = NewPassword(required=True)
