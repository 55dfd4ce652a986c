"""`flask` commands. Each module listed here exposes `commands` (a list of click commands)."""
from __future__ import annotations

import importlib

from flask import Flask

COMMAND_MODULES = ("seed", "location", "api_keys")


def register_commands(app: Flask) -> None:
    """Attach every CLI command of the project (modules not written yet are skipped)."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        for command in module.commands:
            app.cli.add_command(command)
