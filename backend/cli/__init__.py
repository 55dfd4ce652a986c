"""`flask` commands; each module exposes `commands` (a list of click commands)."""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Attach every CLI command of the project."""
    from . import api_keys, location, seed

    for module in (seed, location, api_keys):
        for command in module.commands:
            app.cli.add_command(command)
