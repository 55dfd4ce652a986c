"""Support desk blueprints: `/admin/soporte-*` for `admin` and `soporte` staff, and the
internal API `/api/internal/support` for the SaaS instances."""
from __future__ import annotations

from ...identity.models import Rol

# `soporte` staff may use these routes and nothing else under /admin.
STAFF = (Rol.ADMIN, Rol.SOPORTE)
