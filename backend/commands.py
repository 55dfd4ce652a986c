"""The `flask` commands: `seed` (idempotent starter data across domains: admin, demo company,
catalogue, support types), `keys reencrypt` (secrets at rest moved to the current key),
`mail flush` (pending mail sent) and `search reindex` (the terms behind `?q=` rebuilt) here,
and each domain's own commands, attached by `register`."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, update

from .catalogo.models import Plan, PlanServicio, Servicio
from .core import crypto, mail_outbox, search
from .empresas import cli as empresas_cli
from .empresas.models import Empresa, EstadoEmpresa
from .extensions import db
from .identity.models import Rol, Usuario
from .identity.services.passwords import check_password_rule, hash_password
from .licencia import cli as licencia_cli
from .location import cli as location_cli
from .soporte.models import Modalidad, SoporteTipo

SERVICIOS = [
    ("Facturación electrónica", "Emisión de facturas electrónicas", "/api/facturacion"),
    ("Inventario", "Control de inventario y bodegas", "/api/inventario"),
    ("Nómina", "Nómina electrónica", "/api/nomina"),
    ("Usuarios", "Usuarios permitidos en la instancia", None),
]

PLANES = [
    # nombre, descripcion, mensual, anual, seleccionado, {servicio: cantidad}
    ("Básico", "Para empezar", "49900.00", "499000.00", False,
     {"Facturación electrónica": 100, "Usuarios": 2}),
    ("Profesional", "El más elegido", "99900.00", "999000.00", True,
     {"Facturación electrónica": 1000, "Inventario": 1, "Usuarios": 10}),
    ("Empresarial", "Todo incluido", "199900.00", "1999000.00", False,
     {"Facturación electrónica": 10000, "Inventario": 1, "Nómina": 1, "Usuarios": 50}),
]

SOPORTE_TIPOS = [
    ("Soporte mensual", "Tickets ilimitados durante el mes", Modalidad.MENSUAL, "150000.00", None, None),
    ("Soporte anual", "Tickets ilimitados durante el año", Modalidad.ANUAL, "1500000.00", None, None),
    ("Bolsa de 10 tickets", "Diez tickets por periodo", Modalidad.POR_TICKETS, "90000.00", 10, None),
    ("Bolsa de 20 horas", "Veinte horas por periodo", Modalidad.POR_HORAS, "400000.00", None, "20.00"),
]


def _get_or_create(model, lookup: dict, **values):
    instance = db.session.scalar(select(model).filter_by(**lookup))
    if instance is None:
        instance = model(**lookup, **values)
        db.session.add(instance)
        db.session.flush()
        return instance, True
    return instance, False


def seed_catalogue() -> dict[str, int]:
    """Services, plans (with their services) and support types; existing rows are kept."""
    created = {"servicios": 0, "planes": 0, "soporte_tipos": 0}
    servicios = {}
    for nombre, descripcion, url in SERVICIOS:
        servicios[nombre], new = _get_or_create(Servicio, {"nombre": nombre},
                                                descripcion=descripcion, url_api=url)
        created["servicios"] += new
    for nombre, descripcion, mensual, anual, seleccionado, incluidos in PLANES:
        plan, new = _get_or_create(Plan, {"nombre": nombre}, descripcion=descripcion,
                                   precio_mensual=Decimal(mensual), precio_anual=Decimal(anual),
                                   seleccionado=seleccionado)
        created["planes"] += new
        if new:
            for servicio_nombre, cantidad in incluidos.items():
                db.session.add(PlanServicio(plan_id=plan.id, servicio_id=servicios[servicio_nombre].id,
                                            cantidad=cantidad))
    for nombre, descripcion, modalidad, precio, max_tickets, max_horas in SOPORTE_TIPOS:
        _, new = _get_or_create(SoporteTipo, {"nombre": nombre}, descripcion=descripcion,
                                modalidad=modalidad, precio=Decimal(precio), max_tickets=max_tickets,
                                max_horas=Decimal(max_horas) if max_horas else None)
        created["soporte_tipos"] += new
    return created


def seed_admin(email: str, password: str) -> bool:
    """The first admin; an existing account with that email is left as it is."""
    email = email.strip().lower()
    if db.session.scalar(select(Usuario).filter_by(email=email)) is not None:
        return False
    check_password_rule(password, "ADMIN_PASSWORD")
    db.session.add(Usuario(nombre="Administrador", email=email, password_hash=hash_password(password),
                           rol=Rol.ADMIN, is_active=True, email_verificado=True))
    return True


def seed_demo_empresa(config) -> bool:
    """The demo company from DEMO_EMPRESA_*; kept as it is when it exists."""
    _, new = _get_or_create(Empresa, {"nit": config["DEMO_EMPRESA_NIT"]},
                            nombre=config["DEMO_EMPRESA_NOMBRE"],
                            contacto=config["DEMO_EMPRESA_CONTACTO"],
                            email=config["DEMO_EMPRESA_EMAIL"], estado=EstadoEmpresa.ACTIVA)
    return new


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the admin, the demo company and the starter catalogue (idempotent)."""
    config = current_app.config
    catalogue = seed_catalogue()
    admin = seed_admin(config["ADMIN_EMAIL"], config["ADMIN_PASSWORD"])
    demo = seed_demo_empresa(config)
    db.session.commit()
    click.echo(
        f"seed ({date.today().isoformat()}): admin {'creado' if admin else 'ya existía'}, "
        f"empresa demo {'creada' if demo else 'ya existía'}, "
        f"servicios +{catalogue['servicios']}, planes +{catalogue['planes']}, "
        f"tipos de soporte +{catalogue['soporte_tipos']}"
    )


keys_group = AppGroup("keys", help="Keys of the data kept encrypted (DATA_ENCRYPTION_KEYS).")


@keys_group.command("reencrypt")
def reencrypt_command() -> None:
    """Encrypt every stored TOTP secret again under the first DATA_ENCRYPTION_KEYS key, so an
    older key can then be removed from the list. Secrets no configured key reads are counted
    and left as they are."""
    rows = db.session.execute(select(Usuario.id, Usuario.otp_secret_enc)
                              .where(Usuario.otp_secret_enc.is_not(None))).all()
    done = unreadable = 0
    for usuario_id, token in rows:
        new = crypto.reencrypt(token)
        if new is None:
            unreadable += 1
            continue
        # A bulk UPDATE: no audit row (the column is a secret, the user's data is unchanged).
        db.session.execute(update(Usuario).where(Usuario.id == usuario_id)
                           .values(otp_secret_enc=new).execution_options(synchronize_session=False))
        done += 1
    db.session.commit()
    click.echo(f"{done} secretos cifrados de nuevo con la clave actual; {unreadable} ilegibles.")


mail_group = AppGroup("mail", help="Pending mail (kept while the broker or SMTP was down).")


@mail_group.command("flush")
def mail_flush_command() -> None:
    """Send the pending mail that is due now (the Celery beat entry does it every minute;
    without a worker, run this from cron). Safe to run alongside other flushes."""
    result = mail_outbox.flush()
    click.echo(f"correo pendiente: {result}; quedan {mail_outbox.pending_count()}.")


search_group = AppGroup("search", help="The search terms behind `?q=` on the big lists.")


@search_group.command("reindex")
@click.option("--batch", type=click.IntRange(100, 50_000), default=2000, show_default=True,
              help="Records per transaction.")
def search_reindex_command(batch: int) -> None:
    """Rebuild the search terms of every searchable record (companies, users, tickets), for
    rows loaded outside the app (bulk INSERTs, a restored dump). Safe to run at any time."""
    done = search.reindex(batch, progress=lambda tabla, n: click.echo(f"  {tabla}: {n}", err=True))
    click.echo("términos de búsqueda reconstruidos: "
               + ", ".join(f"{tabla} {n}" for tabla, n in done.items()))


def register(app: Flask) -> None:
    """Attach every command of the project to `app.cli`."""
    for command in (seed_command, keys_group, mail_group, search_group, *location_cli.commands,
                    *empresas_cli.commands,
                    *licencia_cli.commands):
        app.cli.add_command(command)
