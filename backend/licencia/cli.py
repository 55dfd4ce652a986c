"""`flask licence-key create|public`: the Ed25519 key that signs licence answers."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from . import signing

licence_key_group = AppGroup("licence-key", help="The key that signs licence answers.")


@licence_key_group.command("create")
@click.option("--path", "path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the private key (default: LICENSE_SIGNING_KEY_PATH).")
def create(path: str | None) -> None:
    """Create the private key file (mode 0600); never overwrites an existing one.

    Make it once and give the same key to every app host (this file, or its text as
    LICENSE_SIGNING_KEY); SaaS instances trust its public key.
    """
    target = Path(path or current_app.config["LICENSE_SIGNING_KEY_PATH"])
    if not signing.create_key_file(target):
        raise click.ClickException(f"{target} already exists; it was left as it is.")
    signer = signing.signer_from_file(target)
    click.echo(f"Clave de firma creada en {target} (kid {signer.kid}). Guarde una copia segura.")
    if current_app.config.get("LICENSE_SIGNING_KEY") and not path:
        click.echo("Aviso: LICENSE_SIGNING_KEY está definida y tiene prioridad sobre este archivo.",
                   err=True)
    click.echo(signer.public_key_pem, nl=False)


@licence_key_group.command("public")
def public() -> None:
    """Print the public key (PEM) of the current signing key; its kid goes to stderr."""
    try:
        signer = signing.current_signer()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"kid {signer.kid}", err=True)
    click.echo(signer.public_key_pem, nl=False)


commands = [licence_key_group]
