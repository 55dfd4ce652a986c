"""`flask api-keys create|list|revoke`: per-company API keys from the command line."""
from __future__ import annotations

import re

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..core.errors import ApiError
from ..core.persistence import is_db_id
from ..extensions import db
from . import api_keys
from .models import Empresa

api_keys_group = AppGroup("api-keys", help="Per-company API keys.")


def _empresa_id(ref: str) -> int:
    """A company given by id or NIT."""
    empresa = db.session.scalar(select(Empresa).where(Empresa.nit == ref))
    # ASCII digits within INT only: "²".isdigit() is true but int() refuses it.
    if empresa is None and re.fullmatch(r"[0-9]{1,10}", ref) and is_db_id(int(ref)):
        empresa = db.session.get(Empresa, int(ref))
    if empresa is None:
        raise click.ClickException(f"no company with id or NIT {ref!r}")
    return empresa.id


@api_keys_group.command("create")
@click.argument("empresa")
@click.option("--nombre", default=None, help="A label for the key (up to 120 characters).")
def create(empresa: str, nombre: str | None) -> None:
    """Create a key for EMPRESA (id or NIT) and print it (shown only this once)."""
    if nombre is not None and len(nombre) > 120:  # the column's size (as the HTTP schema checks)
        raise click.BadParameter("at most 120 characters", param_hint="--nombre")
    row, key = api_keys.create_key(_empresa_id(empresa), nombre)
    click.echo(f"id={row.id} prefijo={row.prefijo}")
    click.echo(key)


@api_keys_group.command("list")
@click.argument("empresa")
def list_keys(empresa: str) -> None:
    """List the keys of EMPRESA (id or NIT); never the keys themselves."""
    rows = db.session.scalars(api_keys.keys_of(_empresa_id(empresa))).all()
    for row in rows:
        estado = "revocada" if row.revoked_at else "activa"
        click.echo(f"{row.id}\t{row.prefijo}\t{estado}\t{row.nombre or ''}\t"
                   f"{row.created_at:%Y-%m-%d %H:%M}")
    if not rows:
        click.echo("(sin claves)")


@api_keys_group.command("revoke")
@click.argument("empresa")
@click.argument("key_id", type=int)
def revoke(empresa: str, key_id: int) -> None:
    """Revoke key KEY_ID of EMPRESA (id or NIT)."""
    try:
        api_keys.revoke_key(_empresa_id(empresa), key_id)
    except ApiError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"clave {key_id} revocada")


commands = [api_keys_group]
