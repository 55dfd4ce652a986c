"""Bodies and answers of `/account` (CONTRACT.md "Account")."""
from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema
from .validators import Country, Phone, Trimmed


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
    current_password = fields.String(required=True, load_only=True, metadata={"format": "password"})
    new_password = fields.String(required=True, load_only=True, metadata={"format": "password"})
    otp_code = fields.String(validate=validate.Length(min=1, max=16),
                             metadata={"description": "Required when 2FA is on."})
    verification_code = fields.String(validate=validate.Length(min=1, max=16), metadata={
        "description": "The emailed code (/account/password/request-code) when 2FA is off."})
