"""Blueprints per client area; each domain module exposes `blp` (a smorest Blueprint)."""
from __future__ import annotations


def BLUEPRINTS():  # noqa: N802 - reads like the constant it stands for
    """The domain blueprints, in registration order (imported here, not at package import)."""
    from . import (
        account, account_suscripciones, admin_api_keys, admin_auditoria, admin_catalogo,
        admin_empresas, admin_suscripciones, admin_usuarios, auth, licencia, location, public,
    )

    modules = (auth, account, account_suscripciones, public, location, licencia, admin_empresas,
               admin_usuarios, admin_catalogo, admin_suscripciones, admin_api_keys, admin_auditoria)
    return [module.blp for module in modules]
