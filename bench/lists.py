"""Admin and ticket lists at two sizes on MariaDB: the median latency of 20 sequential requests
per list, small against large, and their ratio.

    .venv/bin/python bench/lists.py [--server mysql+pymysql://root@127.0.0.1:3306] [--scale 1.0]

Builds a throwaway database (`bench_lists_<pid>`, utf8mb4, dropped at the end) with the
models' tables and indexes, fills it in bulk (multi-row INSERTs, not the API; the search
terms too, by core.search's normalisation), and requests the lists in-process through Flask's
test client (one worker, no network; the access log silenced). Sizes: small = 1,000
companies (one user each), 1,000 tickets, 10,000 audit rows; large = 100 times that
(100,000 / 100,000 / 1,000,000); `--scale` multiplies both.
The deep pages are reached by `?page=` (OFFSET) and by following `next_cursor`.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.config import TestingConfig
from backend.core import audit
from backend.core.audit import Auditoria
from backend.core.search import TerminoBusqueda, terms
from backend.empresas.models import Empresa
from backend.extensions import db
from backend.identity.models import Rol, Usuario
from backend.identity.services.sessions import start_session
from backend.soporte.models import SoporteTicket

REQUESTS = 20
BATCH = 5_000
WORDS = ["Andina", "Bolivar", "Caribe", "Delta", "Esmeralda", "Faro", "Guadua", "Horizonte", "Iris",
         "Jaguar", "Kiwi", "Laurel", "Montana", "Nevado", "Orquidea", "Pacifico", "Quimbaya", "Roble",
         "Sabana", "Tairona", "Uraba", "Vallenata", "Wayuu", "Yarumo", "Zenu"]
KINDS = ["Comercial", "Servicios", "Logistica", "Ingenieria", "Consultores", "Distribuciones"]
TABLAS = ["empresas", "usuarios", "suscripciones", "soporte_tickets", "soporte_pagos", "planes",
          "api_keys", "soporte_suscripciones"]
ESTADOS = ["abierto", "en_proceso", "pendiente_respuesta", "cerrado", "cancelado"]
PRIORIDADES = ["baja", "media", "alta", "urgente"]
EPOCH = datetime(2026, 1, 1)


def _insert(conn, table, rows) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(table.insert(), rows[i:i + BATCH])


def fill_terms(conn, tabla: str, records: list[dict], columns: tuple[str, ...]) -> None:
    """The search terms of `records` (core.search's normalisation), as the session hook would
    have written them for rows added through the ORM."""
    rows = []
    for record in records:
        rows += [{"tabla": tabla, "registro_id": record["id"], "termino": t}
                 for t in terms(record[c] for c in columns)]
        if len(rows) >= BATCH * 4:
            _insert(conn, TerminoBusqueda.__table__, rows)
            rows = []
    _insert(conn, TerminoBusqueda.__table__, rows)


def fill(conn, companies: tuple[int, int], audit: tuple[int, int], tickets: tuple[int, int],
         rng: random.Random) -> None:
    """Add companies (and a user each), tickets and audit rows with ids in the given ranges."""
    empresas, usuarios = [], []
    for i in range(*companies):
        nombre = f"{rng.choice(KINDS)} {rng.choice(WORDS)} {i}"
        empresas.append({"id": i, "nit": f"9{i:08d}-{i % 10}", "nombre": nombre,
                         "estado": "inactiva" if i % 10 == 0 else "activa",
                         "created_at": EPOCH, "updated_at": EPOCH})
        usuarios.append({"id": i, "nombre": f"Usuario {rng.choice(WORDS)} {i}",
                         "email": f"usuario{i}@empresa{i}.example.com", "password_hash": "x",
                         "rol": "cliente", "empresa_id": i, "is_active": i % 20 != 0,
                         "pendiente_activacion": False, "email_verificado": True, "otp_enabled": False,
                         "created_at": EPOCH, "updated_at": EPOCH})
    _insert(conn, Empresa.__table__, empresas)
    _insert(conn, Usuario.__table__, usuarios)
    fill_terms(conn, "empresas", empresas, ("nit", "nombre"))
    fill_terms(conn, "usuarios", usuarios, ("nombre", "email"))
    top = companies[1] - 1
    rows = []
    for i in range(*tickets):
        # company 1 has 5% of the tickets
        empresa_id = 1 if i % 20 == 0 else rng.randint(companies[0], top)
        rows.append({"id": i, "empresa_id": empresa_id,
                     "titulo": f"{rng.choice(['No factura', 'Error al exportar', 'Lentitud', 'Acceso'])} "
                               f"{rng.choice(WORDS)} {i}",
                     "descripcion": "El modulo de facturacion no responde desde la actualizacion. " * 3,
                     "estado": rng.choice(ESTADOS), "prioridad": rng.choice(PRIORIDADES),
                     "created_at": EPOCH, "updated_at": EPOCH})
    _insert(conn, SoporteTicket.__table__, rows)
    fill_terms(conn, "soporte_tickets", rows, ("titulo", "descripcion"))
    rows = []
    for i in range(*audit):
        tabla = rng.choice(TABLAS)
        rows.append({"id": i, "tabla": tabla, "registro_id": str(rng.randint(1, top)),
                     "accion": rng.choice(["crear", "actualizar", "eliminar"]),
                     "valores_nuevos": {"estado": "activa", "n": i}, "usuario_id": None,
                     "ip": "10.0.0.1", "created_at": EPOCH + timedelta(seconds=i)})
        if len(rows) == BATCH * 4:
            _insert(conn, Auditoria.__table__, rows)
            rows = []
    _insert(conn, Auditoria.__table__, rows)


def median_ms(client, url: str, headers: dict) -> float:
    client.get(url, headers=headers)  # warm (statement cache, buffer pool)
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.get_json())
    return statistics.median(times)


def deep_cursor(client, url: str, headers: dict, page: int, per_page: int = 20) -> str | None:
    """The `next_cursor` that leads to `page`, from one request at the page before it (None
    from a version without cursors)."""
    joiner = "&" if "?" in url else "?"
    body = client.get(f"{url}{joiner}page={page - 1}&per_page={per_page}", headers=headers).get_json()
    return body.get("next_cursor")


def lists(small: tuple) -> dict[str, tuple[str, bool]]:
    """name -> (url, by API key)."""
    audit_page, company_page = small[1] * 4 // 100, small[0] * 4 // 100  # 80% deep in the small data
    return {
        "/admin/empresas": ("/admin/empresas", False),
        "/admin/empresas?estado=inactiva": ("/admin/empresas?estado=inactiva", False),
        "/admin/empresas?q=tairona": ("/admin/empresas?q=tairona", False),
        "/admin/empresas?q=9000005 (rare)": ("/admin/empresas?q=9000005", False),
        "/admin/empresas?q=tairona comercial (two words)":
            ("/admin/empresas?q=tairona%20comercial", False),
        "/admin/empresas?q=tairona cursor to page 3": ("cursor:/admin/empresas?q=tairona:3", False),
        f"/admin/empresas?page={company_page} (OFFSET)": (f"/admin/empresas?page={company_page}", False),
        f"/admin/empresas cursor to page {company_page}": (f"cursor:/admin/empresas:{company_page}", False),
        "/admin/empresas?page=2000 (OFFSET)": ("/admin/empresas?page=2000", False),
        "/admin/usuarios": ("/admin/usuarios", False),
        "/admin/usuarios?is_active=false": ("/admin/usuarios?is_active=false", False),
        "/admin/usuarios?q=yarumo": ("/admin/usuarios?q=yarumo", False),
        "/admin/auditoria": ("/admin/auditoria", False),
        "/admin/auditoria?tabla=planes": ("/admin/auditoria?tabla=planes", False),
        f"/admin/auditoria?page={audit_page} (OFFSET)": (f"/admin/auditoria?page={audit_page}", False),
        f"/admin/auditoria cursor to page {audit_page}": (f"cursor:/admin/auditoria:{audit_page}", False),
        "/admin/soporte-tickets": ("/admin/soporte-tickets", False),
        "/admin/soporte-tickets?estado=abierto": ("/admin/soporte-tickets?estado=abierto", False),
        "/admin/soporte-tickets?estado=abierto&prioridad=alta":
            ("/admin/soporte-tickets?estado=abierto&prioridad=alta", False),
        "/admin/soporte-tickets?empresa_id=1": ("/admin/soporte-tickets?empresa_id=1", False),
        "/admin/soporte-tickets?q=lentitud": ("/admin/soporte-tickets?q=lentitud", False),
        "/admin/soporte-tickets?q=lentitud&estado=abierto":
            ("/admin/soporte-tickets?q=lentitud&estado=abierto", False),
        "/api/internal/support/tickets": ("/api/internal/support/tickets", True),
        "/api/internal/support/tickets?estado=cerrado":
            ("/api/internal/support/tickets?estado=cerrado", True),
    }


class World:
    """One throwaway database filled to one size, and a test client on it."""

    def __init__(self, server, name: str, sizes: tuple[int, int, int], seed: int) -> None:
        config = TestingConfig()
        config.SQLALCHEMY_DATABASE_URI = server.set(database=name, query={"charset": "utf8mb4"}) \
            .render_as_string(hide_password=False)
        config.TESTING = False
        self.app = create_app(config.finalize())
        companies, audit_rows, tickets = sizes
        with self.app.app_context():
            db.create_all()
            t0 = time.perf_counter()
            with db.engine.begin() as conn:
                fill(conn, (1, companies + 1), (1, audit_rows + 1), (1, tickets + 1), random.Random(seed))
            with audit.disabled():  # the audit trail holds exactly the rows made above
                staff = Usuario(nombre="Bench Admin", email="bench-admin@example.com", password_hash="x",
                                rol=Rol.ADMIN, is_active=True, email_verificado=True)
                db.session.add(staff)
                db.session.commit()
                with self.app.test_request_context():
                    token = start_session(staff)["access_token"]
                    db.session.commit()
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE TABLE empresas, usuarios, auditoria, soporte_tickets, "
                                  "terminos_busqueda"))
            db.session.remove()
            print(f"  {name}: {companies:,} companies, {audit_rows:,} audit rows, {tickets:,} tickets "
                  f"built in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.api_headers = {"X-API-Key": config.SAAS_API_KEY, "X-Empresa-Id": "1"}
        # Outside any app context: each request has its own, and its session ends with it.
        self.client = self.app.test_client()

    def median_ms(self, url: str, by_api_key: bool) -> float:
        headers = self.api_headers if by_api_key else self.headers
        if url.startswith("cursor:"):
            _, path, page = url.split(":")
            cursor = deep_cursor(self.client, path, headers, int(page))
            if cursor is None:
                return float("nan")
            url = f"{path}{'&' if '?' in path else '?'}cursor={cursor}"
        return median_ms(self.client, url, headers)

    def close(self) -> None:
        with self.app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get("BENCH_MYSQL", "mysql+pymysql://root@127.0.0.1:3306"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate small and large this many times per list; the median round is shown")
    args = parser.parse_args()
    small = int(1_000 * args.scale), int(10_000 * args.scale), int(1_000 * args.scale)
    large = tuple(n * 100 for n in small)
    server = make_url(args.server)
    names = [f"bench_lists_{os.getpid()}_small", f"bench_lists_{os.getpid()}_large"]
    admin_engine = create_engine(server.set(database=None))
    with admin_engine.connect() as conn:
        for name in names:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    worlds = []
    try:
        logging.disable(logging.WARNING)  # the access log is not what is measured
        worlds = [World(server, names[0], small, 16), World(server, names[1], large, 16)]
        time.sleep(5)  # let the server finish flushing the bulk load
        rows = []
        for label, (url, by_api_key) in lists(small).items():
            rounds = [(worlds[0].median_ms(url, by_api_key), worlds[1].median_ms(url, by_api_key))
                      for _ in range(args.rounds)]
            rows.append((label, statistics.median(r[0] for r in rounds),
                         statistics.median(r[1] for r in rounds)))
    finally:
        for world in worlds:
            world.close()
        with admin_engine.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin_engine.dispose()
    print(f"MariaDB, Flask test client (in-process, one worker), median of {REQUESTS} sequential requests "
          f"(median of {args.rounds} alternating rounds)")
    print(f"small: {small[0]:,} companies and users, {small[2]:,} tickets, {small[1]:,} audit rows; "
          f"large: {large[0]:,} / {large[2]:,} / {large[1]:,}")
    width = max(len(r[0]) for r in rows)
    print(f"{'list':<{width}}  {'small ms':>9}  {'large ms':>9}  {'ratio':>6}")
    for label, before, after in rows:
        print(f"{label:<{width}}  {before:>9.1f}  {after:>9.1f}  {after / before:>6.2f}")


if __name__ == "__main__":
    main()
