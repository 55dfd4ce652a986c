"""Hostile input on /admin/empresas: a NIT written with non-ASCII digits is 422 and no company
is created."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.empresas.models import Empresa
from tests.conftest import assert_error


@pytest.mark.parametrize("nit", ["١٢٣٤٥٦٧٨٩", "９００１２３４５６", "90012345-٧"])
def test_nit_with_non_ascii_digits_is_422(client, db, admin_headers, nit):
    body = assert_error(client.post("/admin/empresas", json={"nit": nit, "nombre": "Rara"},
                                    headers=admin_headers), 422, "validacion")
    assert "nit" in body["details"]
    assert db.session.scalar(select(func.count()).select_from(Empresa)) == 0
