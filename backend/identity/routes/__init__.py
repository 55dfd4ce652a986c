"""Identity blueprints: `/auth`, `/account` and `/admin/usuarios`."""
