"""`flask` commands."""
from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach every CLI command group of the project."""
    from .seed import seed_command

    app.cli.add_command(seed_command)
