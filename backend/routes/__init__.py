"""Blueprints per client area. Each domain module exposes `blp` (a smorest Blueprint)."""
from __future__ import annotations

import importlib

# Modules under backend.routes whose `blp` is registered on the Api, in this order.
# A module listed here that does not exist yet is skipped, so domains can land one by one.
DOMAIN_MODULES = (
    "auth",
    "account",
    "account_suscripciones",
    "public",
    "location",
    "licencia",
    "admin_empresas",
    "admin_usuarios",
    "admin_catalogo",
    "admin_suscripciones",
    "admin_api_keys",
    "admin_auditoria",
    "admin_soporte",
    "admin_tickets",
    "internal_support",
)


def BLUEPRINTS():  # noqa: N802 - reads like the constant it stands for
    """The domain blueprints that exist, importing each module."""
    found = []
    for name in DOMAIN_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        found.append(module.blp)
    return found
