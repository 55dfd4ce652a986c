"""Bodies and answers of the support desk: `/admin/soporte-*` and `/api/internal/support`."""
from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, fields, post_dump, validate, validates_schema

from ..core.pagination import CursorPaginationArgs
from ..core.schemas import TEXT_MAX, BaseSchema, EnumValue, Id, Money, UTCDateTime, fecha_doc
from ..core.validators import NOT_BLANK_PATTERN, Trimmed
from .models import EstadoPago, EstadoSoporte, EstadoTicket, Modalidad, Prioridad

FECHA = validate.Range(min=date(1900, 1, 1), max=date(2999, 12, 31),
                       error="Debe estar entre {min} y {max}.")
HORAS = validate.Range(min=0, max=999_999, error="Debe estar entre {min} y {max}.")
CANTIDAD = validate.Range(min=0, max=1_000_000, error="Debe estar entre {min} y {max}.")
METADATA_MAX_KEYS = 50


def _small_object(value: dict) -> None:
    if len(value) > METADATA_MAX_KEYS:
        raise ValidationError(f"Como máximo {METADATA_MAX_KEYS} claves.")


# ---------------------------------------------------------------- support types

class SoporteTipoSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    nombre = Trimmed(required=True, validate=validate.Length(min=1, max=120))
    descripcion = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    modalidad = EnumValue(Modalidad, required=True)
    precio = Money(required=True)
    # strict: 2.5 or "3" is refused, not truncated to a different quota.
    max_tickets = fields.Integer(allow_none=True, strict=True, validate=CANTIDAD, metadata={
        "description": "Tickets per period (`por_tickets`; optional for `mensual`/`anual`)."})
    max_horas = fields.Decimal(allow_none=True, places=2, as_string=False, validate=HORAS, metadata={
        "description": "Hours per period (`por_horas`; optional for `mensual`/`anual`)."})
    activo = fields.Boolean(load_default=True)
    created_at = UTCDateTime(dump_only=True)

    @validates_schema
    def _limit_of_the_modality(self, data, partial=False, **_kwargs):
        modalidad = data.get("modalidad")
        if modalidad == Modalidad.POR_TICKETS and data.get("max_tickets") is None and not partial:
            raise ValidationError({"max_tickets": ["Requerido para la modalidad por_tickets."]})
        if modalidad == Modalidad.POR_HORAS and data.get("max_horas") is None and not partial:
            raise ValidationError({"max_horas": ["Requerido para la modalidad por_horas."]})


class SoporteTipoUpdateSchema(SoporteTipoSchema):
    activo = fields.Boolean()


class SoporteTipoQuerySchema(CursorPaginationArgs):
    q = fields.String(validate=validate.Length(max=120))
    activo = fields.Boolean()
    modalidad = EnumValue(Modalidad)


# ---------------------------------------------------------------- support subscriptions

class SoporteSuscripcionSchema(BaseSchema):
    """A company's support subscription; `estado` reads `vencido` once past `fecha_fin`."""

    id = fields.Integer(dump_only=True)
    empresa_id = Id(required=True)
    suscripcion_id = Id(required=True)
    soporte_tipo_id = Id(required=True)
    fecha_inicio = fields.Date(validate=FECHA, metadata=fecha_doc("Default: today (UTC)."))
    fecha_fin = fields.Date(validate=FECHA, metadata=fecha_doc(
        "Default: one month after fecha_inicio (one year for `anual`), inclusive."))
    estado = EnumValue(EstadoSoporte)
    precio_actual = Money(dump_only=True)
    tickets_consumidos = fields.Integer(dump_only=True)
    horas_consumidas = fields.Decimal(dump_only=True, places=2, as_string=False)
    notas = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    creado_por = fields.Integer(dump_only=True, allow_none=True)
    created_at = UTCDateTime(dump_only=True)

    @post_dump(pass_original=True)
    def _estado_de_hoy(self, data, original, **_kwargs):
        # Create accepts `activo` (default) or `pendiente_pago`; the answer reads as of today.
        data["estado"] = original.estado_efectivo.value
        return data

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        inicio, fin = data.get("fecha_inicio"), data.get("fecha_fin")
        if inicio and fin and fin < inicio:
            raise ValidationError({"fecha_fin": ["No puede ser anterior a fecha_inicio."]})


class SoporteSuscripcionAltaSchema(SoporteSuscripcionSchema):
    """POST body: a new support subscription starts `activo` (default) or `pendiente_pago`."""

    estado = EnumValue(EstadoSoporte, only=(EstadoSoporte.ACTIVO, EstadoSoporte.PENDIENTE_PAGO),
                       metadata={"description": "Default `activo`; `pendiente_pago` until a "
                                                "successful payment."})


class SoporteSuscripcionUpdateSchema(BaseSchema):
    """PUT body: dates and notes (the state changes through renovar, cancelar and payments)."""

    fecha_inicio = fields.Date(validate=FECHA, metadata=fecha_doc())
    fecha_fin = fields.Date(validate=FECHA, metadata=fecha_doc())
    notas = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))


class SoporteSuscripcionQuerySchema(CursorPaginationArgs):
    empresa_id = Id()
    estado = EnumValue(EstadoSoporte)
    soporte_tipo_id = Id()


class CancelarSoporteSchema(BaseSchema):
    notas = fields.String(allow_none=True, validate=validate.Length(max=2000))


# ---------------------------------------------------------------- payments

class SoportePagoSchema(BaseSchema):
    """A payment; one created `exitoso` for a `pendiente_pago` subscription activates it."""

    id = fields.Integer(dump_only=True)
    soporte_suscripcion_id = Id(required=True)
    monto = Money(required=True)
    estado = EnumValue(EstadoPago, required=True)
    metodo_pago = Trimmed(allow_none=True, validate=validate.Length(max=50))
    referencia = Trimmed(allow_none=True, validate=validate.Length(max=120))
    detalle = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), allow_none=True,
                          validate=_small_object)
    fecha_pago = UTCDateTime(metadata={"description": "Default: now."})
    creado_por = fields.Integer(dump_only=True, allow_none=True)
    created_at = UTCDateTime(dump_only=True)


class SoportePagoUpdateSchema(BaseSchema):
    """PUT body: the create body's fields, each optional. An `exitoso` payment's money facts
    (`soporte_suscripcion_id, monto, estado, fecha_pago`) are final (409 if changed)."""

    soporte_suscripcion_id = Id()
    monto = Money()
    estado = EnumValue(EstadoPago)
    fecha_pago = UTCDateTime()
    metodo_pago = Trimmed(allow_none=True, validate=validate.Length(max=50))
    referencia = Trimmed(allow_none=True, validate=validate.Length(max=120))
    detalle = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), allow_none=True,
                          validate=_small_object)


class SoportePagoQuerySchema(CursorPaginationArgs):
    soporte_suscripcion_id = Id()
    estado = EnumValue(EstadoPago)


# ---------------------------------------------------------------- availability

class VigenciaSchema(BaseSchema):
    desde = fields.Date(allow_none=True)
    hasta = fields.Date(allow_none=True)


class CupoTicketsSchema(BaseSchema):
    maximo = fields.Integer(allow_none=True)
    consumidos = fields.Integer()
    disponibles = fields.Integer(allow_none=True)


class CupoHorasSchema(BaseSchema):
    maximo = fields.Float(allow_none=True)
    consumidas = fields.Float()
    disponibles = fields.Float(allow_none=True)


MOTIVOS = ["sin_suscripcion_soporte", "cancelado", "pago_pendiente", "vencido",
           "fuera_de_vigencia", "suscripcion_no_vigente", "cupo_tickets_agotado",
           "cupo_horas_agotado"]


class DisponibilidadSchema(BaseSchema):
    puede_crear_ticket = fields.Boolean()
    motivo = fields.String(allow_none=True, metadata={"enum": MOTIVOS})
    modalidad = fields.String(allow_none=True, metadata={"enum": [m.value for m in Modalidad]})
    vigencia = fields.Nested(VigenciaSchema)
    tickets = fields.Nested(CupoTicketsSchema)
    horas = fields.Nested(CupoHorasSchema)


# ---------------------------------------------------------------- tickets

# Free text of a ticket or comment: at least one visible character (blank is refused).
TEXTO = [validate.Length(min=1, max=TEXT_MAX),
         validate.Regexp(r"\s*\S", error="No puede estar vacío.")]
TEXTO_DOC = {"pattern": NOT_BLANK_PATTERN, "description": "Not blank."}
# A title is one line: it becomes the subject of the emails about the ticket.
TITULO = [validate.Length(min=1, max=255),
          validate.Regexp(r"[^\x00-\x1f\x7f]*\Z", error="Una sola línea, sin caracteres de control.")]
# The same rule for the spec (the validator's `\Z` is Python only): one line, no control
# characters, at least one visible character (surrounding spaces are trimmed).
TITULO_DOC = {"pattern": r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f\x85][^\x00-\x1f\x7f]*$",
              "description": "One line: no control characters; surrounding spaces are trimmed "
                             "and something must remain."}


class ArchivoSchema(BaseSchema):
    id = fields.Integer()
    nombre = fields.String()
    tamano = fields.Integer()
    content_type = fields.String()
    sha256 = fields.String()
    created_at = UTCDateTime()


class ArchivoInternoSchema(BaseSchema):
    """The internal API's upload answer: the fields of the attachment table it needs."""

    id = fields.Integer()
    nombre = fields.String()
    tamano = fields.Integer()
    content_type = fields.String()


class ComentarioSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    ticket_id = fields.Integer(dump_only=True)
    contenido = fields.String(required=True, validate=TEXTO, metadata=TEXTO_DOC)
    interno = fields.Boolean(load_default=False, metadata={"description": "Staff only: never "
                                                           "shown through the internal API."})
    es_admin = fields.Boolean(dump_only=True)
    usuario_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = UTCDateTime(dump_only=True)


class TicketSchema(BaseSchema):
    """The ticket object of the contract."""

    id = fields.Integer(dump_only=True)
    empresa_id = Id(required=True)
    titulo = Trimmed(required=True, validate=TITULO, metadata=TITULO_DOC)
    descripcion = fields.String(required=True, validate=TEXTO, metadata=TEXTO_DOC)
    estado = EnumValue(EstadoTicket, dump_only=True)
    prioridad = EnumValue(Prioridad, load_default=Prioridad.MEDIA)
    usuario_id = Id(allow_none=True)
    asignado_a = fields.Integer(dump_only=True, allow_none=True)
    horas_invertidas = fields.Decimal(dump_only=True, places=2, as_string=False, allow_none=True)
    metadata = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), allow_none=True,
                           attribute="metadata_", validate=_small_object)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)
    cerrado_at = UTCDateTime(dump_only=True, allow_none=True)


class TicketDetalleSchema(TicketSchema):
    comentarios = fields.List(fields.Nested(ComentarioSchema), dump_only=True)
    archivos = fields.List(fields.Nested(ArchivoSchema), dump_only=True)


class TicketInternoSchema(BaseSchema):
    """`POST /api/internal/support/create_tickets` body (the company is `X-Empresa-Id`)."""

    titulo = Trimmed(required=True, validate=TITULO, metadata=TITULO_DOC)
    descripcion = fields.String(required=True, validate=TEXTO, metadata=TEXTO_DOC)
    usuario_id = Id(allow_none=True)
    prioridad = EnumValue(Prioridad, load_default=Prioridad.MEDIA)
    metadata = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), allow_none=True,
                           validate=_small_object)


class ComentarioInternoSchema(BaseSchema):
    contenido = fields.String(required=True, validate=TEXTO, metadata=TEXTO_DOC)
    usuario_id = Id(allow_none=True)


class TicketPatchSchema(BaseSchema):
    estado = EnumValue(EstadoTicket)
    prioridad = EnumValue(Prioridad)
    asignado_a = Id(allow_none=True)


class CerrarTicketSchema(BaseSchema):
    horas = fields.Decimal(places=2, as_string=False, validate=validate.Range(
        min=0, max=10_000, min_inclusive=False, error="Debe ser mayor que 0 y a lo sumo 10000."),
        metadata={"description": "Hours spent; required for `por_horas`. Rounded to two "
                                 "decimals, which must leave more than 0.",
                  "minimum": 0.01})


class TicketQuerySchema(CursorPaginationArgs):
    estado = EnumValue(EstadoTicket)
    prioridad = EnumValue(Prioridad)
    empresa_id = Id()
    asignado_a = Id()
    q = fields.String(validate=validate.Length(max=200), metadata={"description": (
        "Words, each the beginning of a word of the title or the description (accents and case "
        "ignored; every word must match). No word at all (only punctuation) matches nothing.")})


class TicketInternoQuerySchema(CursorPaginationArgs):
    estado = EnumValue(EstadoTicket)


class ConteoSchema(BaseSchema):
    clave = fields.String()
    total = fields.Integer()


class EstadisticasSchema(BaseSchema):
    total = fields.Integer()
    por_estado = fields.Dict(keys=fields.String(), values=fields.Integer())
    por_prioridad = fields.Dict(keys=fields.String(), values=fields.Integer())
    por_empresa = fields.List(fields.Dict(), metadata={
        "description": "`[{empresa_id, nombre, total}]`, most tickets first."})
    horas_promedio_primera_respuesta = fields.Float(allow_none=True, metadata={
        "description": "Average hours from opening to the first non-internal staff comment."})
    horas_promedio_cierre = fields.Float(allow_none=True, metadata={
        "description": "Average hours from opening to closing, over closed tickets."})


class EstadisticasQuerySchema(BaseSchema):
    empresa_id = Id()
    desde = fields.Date(validate=FECHA, metadata=fecha_doc("Tickets opened from this UTC day."))
    hasta = fields.Date(validate=FECHA, metadata=fecha_doc("Up to this UTC day, inclusive."))

    @validates_schema
    def _fechas_en_orden(self, data, **_kwargs):
        desde, hasta = data.get("desde"), data.get("hasta")
        if desde and hasta and hasta < desde:
            raise ValidationError({"hasta": ["No puede ser anterior a desde."]})


class EstadoSchema(BaseSchema):
    status = fields.String()


class ArchivoUploadSchema(BaseSchema):
    """multipart/form-data with the file in `file`."""

    file = fields.Raw(required=True, metadata={
        "type": "string", "format": "binary", "minLength": 1,
        "description": "A non-empty file with a name; see the allowed extensions and limits."},
                      error_messages={"required": "Adjunte un archivo en el campo file."})
