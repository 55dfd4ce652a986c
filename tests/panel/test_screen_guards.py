"""Who may see the staff-only screens: anonymous visitors are sent to sign in, `soporte` staff
get 403 (they work in the support screens only, tests/panel/test_soporte.py)."""
from __future__ import annotations

import pytest

STAFF_ONLY_SCREENS = [
    "/panel/empresas/",
    "/panel/empresas/new/",
    "/panel/api-keys/",
    "/panel/empresas/export/csv/",
    "/panel/usuarios/",
    "/panel/usuarios/new/",
    "/panel/usuarios/export/csv/",
    "/panel/planes/",
    "/panel/planes/new/",
    "/panel/servicios/",
    "/panel/servicios/export/csv/",
    "/panel/suscripciones/",
    "/panel/suscripciones/new/",
    "/panel/suscripciones/export/csv/",
    "/panel/auditoria/",
    "/panel/auditoria/export/csv/",
    "/panel/accesos/",
    "/panel/accesos/export/csv/",
]


@pytest.mark.parametrize("url", STAFF_ONLY_SCREENS)
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/panel/login?next=")


@pytest.mark.parametrize("url", STAFF_ONLY_SCREENS)
def test_soporte_staff_get_403(soporte_panel, url):
    assert soporte_panel.get(url).status_code == 403
