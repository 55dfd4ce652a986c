"""Load benchmark: the app under gunicorn on MariaDB with realistic data, driven by wrk.

Usage (from the project root; see bench/README.md):
    .venv/bin/python bench/load.py [--rounds 3] [--duration 10] [--connections 16] [--workers 2]
        [--scenarios health,licence,licence-key,ticket,admin-tickets,login] [--keep-db | --reuse-db]
        [--only-build]

1. Builds a throwaway MariaDB database (`bench_load`): the schema through the app's own
   migrations (`flask db upgrade`), then the data in bulk on a raw connection (multi-row
   INSERTs, never the HTTP API): 10,000 companies with NITs and API keys, 20,004 users, plans
   and services, subscriptions (most companies with an `activa` one in force), support types
   and support subscriptions, 100,000 tickets and 1,000,000 audit rows. Prints the build time.
   `--reuse-db` keeps a complete build for later runs (reset to its built state each time).
2. Starts the app (`gunicorn wsgi:app`, APP_ENV=production, Redis for the licence cache, the
   rate limits and the Celery broker) and the ceiling (`gunicorn bench.ceiling:app`, a bare
   Flask app answering a licence-sized JSON) with the same gunicorn settings, on free ports.
3. Checks every scenario's answer status, warms every scenario up, then runs R rounds (the
   order of the scenarios reversed every other round); each round runs the ceiling and every
   scenario with wrk for `--duration` seconds and `--connections` connections, after the
   workers served what the previous run left queued. The licence cache is emptied once, before
   the warm-up: the licence scenarios cycle through the NITs of `--licence-nits` companies
   (1,000 by default: the instances that check again within the cache's 30 s), and the warm-up
   asks each once; `--licence-nits 10000 --env LICENSE_CACHE_SECONDS=0` measures every check
   going to the database.
4. Prints one table: medians over the rounds of requests/s and p50/p95/p99 latency, and the
   median over the rounds of each round's ratio to the ceiling (rps ratio: fraction of the
   ceiling's throughput; p99 ratio: how many times the ceiling's p99), plus the non-2xx/3xx
   answers and socket errors of every scenario (a run with any is reported as invalid).

Every gunicorn started here is stopped on exit, Ctrl-C included.
"""
from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import hashlib
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymysql  # noqa: E402  (after the path: the project's venv and package)

BIN = Path(sys.executable).parent
LUA = Path(__file__).resolve().parent / "load.lua"

SCENARIOS = ("health", "licence", "licence-key", "ticket", "admin-tickets", "login")
DEFAULT_SCENARIOS = SCENARIOS
DESCRIPTIONS = {
    "ceiling": "ceiling: bare Flask, licence-sized JSON",
    "health": "GET /health (liveness: the app's hooks only)",
    "licence": "GET /api/suscripcion-activa/:nit (global key)",
    "licence-key": "GET /api/suscripcion-activa/:nit (company key)",
    "ticket": "POST /api/internal/support/create_tickets",
    "admin-tickets": "GET /admin/soporte-tickets?estado&prioridad",
    "login": "POST /auth/login (argon2id)",
}
EXPECTED_STATUS = {"health": 200, "licence": 200, "licence-key": 200, "ticket": 201,
                   "admin-tickets": 200, "login": 200, "ceiling": 200}

ADMIN_EMAIL = "admin@bench.example.com"
PASSWORD = "Bench#12345"  # every bench user's password (hashed once, reused)
LOGIN_USERS = 100  # the login scenario rotates over this many customer accounts
GLOBAL_API_KEY = "bench-global-api-key-0123456789abcdef"
REDIS_DBS = {"REDIS_URL": 13, "RATELIMIT_STORAGE_URI": 14, "CELERY_BROKER_URL": 15}
# Far above what the bench sends, so that the login scenario measures sign-ins, not 429s;
# the limiter still runs (and counts in Redis) on every request, as in production.
BENCH_AUTH_RATE_IP = "1000000/minute"


# ---------------------------------------------------------------- small helpers

def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def fail(message: str) -> None:
    raise SystemExit(f"load.py: {message}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def company_key(empresa_id: int) -> str:
    """The bench API key of a company: deterministic, so a reused database needs no key file."""
    secret = base64.urlsafe_b64encode(hashlib.sha256(f"bench-load:{empresa_id}".encode()).digest())
    return f"sk_{empresa_id:08x}_{secret.decode().rstrip('=')}"


def nit_of(empresa_id: int) -> str:
    return f"{800000000 + empresa_id}-{empresa_id % 10}"


def dt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- the database

@dataclass
class Database:
    host: str
    port: int
    user: str
    password: str
    name: str

    @property
    def url(self) -> str:
        auth = f"{self.user}:{self.password}" if self.password else self.user
        return f"mysql+pymysql://{auth}@{self.host}:{self.port}/{self.name}?charset=utf8mb4"

    def connect(self, database: bool = True) -> pymysql.connections.Connection:
        try:
            return pymysql.connect(host=self.host, port=self.port, user=self.user,
                                   password=self.password, charset="utf8mb4", autocommit=False,
                                   database=self.name if database else None,
                                   connect_timeout=5, local_infile=False)
        except pymysql.err.OperationalError as exc:
            fail(f"MariaDB at {self.host}:{self.port} is unreachable or refused us: {exc}")
            raise  # unreachable

    def server_version(self) -> str:
        conn = self.connect(database=False)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                return cur.fetchone()[0]
        finally:
            conn.close()


def read_meta(db: Database) -> dict | None:
    """The build record of a complete earlier build in `db`, else None."""
    conn = db.connect(database=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s "
                        "AND TABLE_NAME='bench_meta'", (db.name,))
            if cur.fetchone() is None:
                return None
            cur.execute(f"SELECT k, v FROM `{db.name}`.bench_meta")
            meta = {k: json.loads(v) for k, v in cur.fetchall()}
    finally:
        conn.close()
    return meta if meta.get("complete") else None


def upgrade_schema(env: dict) -> None:
    """Bring a kept build to the code's schema (`flask db upgrade`; nothing when it is current)."""
    cmd = [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"upgrading the kept schema failed:\n{result.stdout}\n{result.stderr}")


def create_schema(db: Database, env: dict, schema: str) -> None:
    conn = db.connect(database=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
            cur.execute(f"CREATE DATABASE `{db.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    if schema == "migrations":
        # `heads`: every head, so a tree with two branches being merged still upgrades.
        cmd = [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"]
    else:
        cmd = [sys.executable, "-c", "from backend import create_app; from backend.extensions import db; "
               "app = create_app(); app.app_context().push(); db.create_all()"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"creating the schema ({schema}) failed:\n{result.stdout}\n{result.stderr}")
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE bench_meta (k VARCHAR(64) PRIMARY KEY, v TEXT NOT NULL)")
        conn.commit()
    finally:
        conn.close()


def drop_database(db: Database) -> None:
    conn = db.connect(database=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db.name}`")
    finally:
        conn.close()


def hash_password_once(password: str) -> str:
    """The argon2id hash of `password` by the app's own hasher at the configured (production) cost."""
    from flask import Flask

    from backend.config import Config
    from backend.identity.services.passwords import hash_password

    config = Config()
    app = Flask("bench-hasher")
    app.config.update(ARGON2_TIME_COST=config.ARGON2_TIME_COST,
                      ARGON2_MEMORY_COST=config.ARGON2_MEMORY_COST)
    with app.app_context():
        return hash_password(password)


def insert(cur, table: str, columns: tuple[str, ...], rows, chunk: int = 5000) -> int:
    """Multi-row INSERTs of `rows` (an iterable of tuples), `chunk` rows per executemany."""
    sql = (f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    total, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            cur.executemany(sql, batch)
            total += len(batch)
            batch = []
    if batch:
        cur.executemany(sql, batch)
        total += len(batch)
    return total


@dataclass
class Sizes:
    companies: int
    tickets: int
    audit: int


@dataclass
class Built:
    """What the scenarios need from the data (derived again from the database on reuse)."""

    nits: list[str] = field(default_factory=list)
    ticket_companies: list[int] = field(default_factory=list)
    login_emails: list[str] = field(default_factory=list)


CIUDADES = ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Bucaramanga", "Pereira",
            "Manizales", "Cúcuta", "Ibagué")
ESTADOS_TICKET = (("cerrado", 50), ("abierto", 15), ("en_proceso", 15),
                  ("pendiente_respuesta", 10), ("cancelado", 10))
PRIORIDADES = (("baja", 25), ("media", 40), ("alta", 25), ("urgente", 10))
ASUNTOS = ("No puedo iniciar sesión", "Error al generar factura", "Lentitud en el módulo de reportes",
           "Solicitud de nuevo usuario", "Falla en la sincronización", "Consulta sobre el plan",
           "Error 500 al exportar", "Cambio de datos de la empresa", "Integración con la API",
           "Problema con notificaciones")


def _weighted(rng: random.Random, pairs, k: int) -> list[str]:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=k)


def build(db: Database, sizes: Sizes, env: dict, schema: str) -> tuple[float, dict]:
    """Create the schema and the data; returns (seconds, the build record kept in bench_meta)."""
    start = time.perf_counter()
    log(f"creating database {db.name} and its schema ({schema})")
    create_schema(db, env, schema)
    t_schema = time.perf_counter() - start
    password_hash = hash_password_once(PASSWORD)
    rng = random.Random(16)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    today = now.date()
    two_years = timedelta(days=730)
    n_emp = sizes.companies
    counts: dict[str, int] = {}

    conn = db.connect()
    cur = conn.cursor()
    cur.execute("SET SESSION foreign_key_checks=0, unique_checks=0")

    def timed(table: str, columns, rows, chunk: int = 5000) -> None:
        t0 = time.perf_counter()
        counts[table] = insert(cur, table, columns, rows, chunk)
        conn.commit()
        log(f"  {table}: {counts[table]:,} rows in {time.perf_counter() - t0:.1f} s")

    # Catalogue: plans and services.
    servicios = [(i, f"Servicio {i}", f"Servicio de prueba {i}", f"https://api.example.com/s{i}", 1,
                  dt(now - two_years), dt(now - two_years)) for i in range(1, 9)]
    timed("servicios", ("id", "nombre", "descripcion", "url_api", "activo", "created_at", "updated_at"),
          servicios)
    plan_names = ("Básico", "Profesional", "Empresarial", "Corporativo")
    precios = {1: (50_000, 500_000), 2: (120_000, 1_200_000), 3: (250_000, 2_500_000),
               4: (500_000, 5_000_000)}
    timed("planes", ("id", "nombre", "descripcion", "precio_mensual", "precio_anual", "seleccionado",
                     "activo", "created_at", "updated_at"),
          [(p, f"Plan {plan_names[p - 1]}", f"Plan {plan_names[p - 1]} de prueba", precios[p][0],
            precios[p][1], int(p == 2), 1, dt(now - two_years), dt(now - two_years)) for p in precios])
    timed("plan_servicios", ("plan_id", "servicio_id", "cantidad"),
          [(p, s, s * p) for p in precios for s in range(1, 3 + 2 * p) if s <= 8])

    # Companies: 2% inactive.
    created = [now - two_years + timedelta(seconds=int(i * two_years.total_seconds() / (n_emp + 1)))
               for i in range(1, n_emp + 1)]
    timed("empresas", ("id", "nit", "nombre", "contacto", "email", "telefono", "direccion", "ciudad",
                       "pais", "estado", "created_at", "updated_at"),
          ((i, nit_of(i), f"Empresa Bench {i:05d} S.A.S.", f"Contacto {i}",
            f"contacto{i}@empresa{i}.example.com", f"+57300{i:07d}", f"Calle {i % 200} # {i % 90}-{i % 70}",
            CIUDADES[i % len(CIUDADES)], "CO", "inactiva" if i % 50 == 0 else "activa",
            dt(created[i - 1]), dt(created[i - 1])) for i in range(1, n_emp + 1)))

    # Users: one admin, three support staff, two customers per company (same password hash).
    admin_id, soporte_ids = 1, [2, 3, 4]

    def usuarios():
        base = dt(now - two_years)
        yield (admin_id, "Admin Bench", ADMIN_EMAIL, password_hash, "admin", None, base, base)
        for uid in soporte_ids:
            yield (uid, f"Soporte {uid}", f"soporte{uid}@bench.example.com", password_hash, "soporte",
                   None, base, base)
        uid = 4
        for i in range(1, n_emp + 1):
            for letter in "ab":
                uid += 1
                yield (uid, f"Usuario {i}{letter}", f"u{i}{letter}@empresa{i}.example.com", password_hash,
                       "cliente", i, dt(created[i - 1]), dt(created[i - 1]))

    timed("usuarios", ("id", "nombre", "email", "password_hash", "rol", "empresa_id", "is_active",
                       "pendiente_activacion", "email_verificado", "otp_enabled", "created_at",
                       "updated_at"),
          ((*row[:6], 1, 0, 1, 0, *row[6:]) for row in usuarios()))

    def user_ids_of(empresa_id: int) -> tuple[int, int]:
        first = 4 + 2 * (empresa_id - 1) + 1
        return first, first + 1

    # API keys: one per company, last used just now.
    timed("api_keys", ("id", "empresa_id", "nombre", "prefijo", "key_hash", "creado_por", "created_at",
                       "last_used_at"),
          ((i, i, "Instancia SaaS", f"sk_{i:08x}", hashlib.sha256(company_key(i).encode()).hexdigest(),
            admin_id, dt(created[i - 1]), dt(now)) for i in range(1, n_emp + 1)))

    # Subscriptions: an older cancelled one for 40% of the companies (lower ids), then the
    # current one: 85% activa in force, 4% activa but ended, 4% suspendida, 3% cancelada,
    # 2% inactiva (a sign-up waiting for staff), 2% none.
    kinds = _weighted(rng, (("vigente", 85), ("vencida", 4), ("suspendida", 4), ("cancelada", 3),
                            ("inactiva", 2), ("ninguna", 2)), n_emp)
    subs, sid = [], 0
    current_sub: dict[int, tuple[int, str]] = {}

    def sub_row(empresa_id, plan, periodo, inicio: date, fin: date, estado, motivo=None):
        nonlocal sid
        sid += 1
        precio = precios[plan][0 if periodo == "mensual" else 1]
        when = dt(datetime.combine(inicio, datetime.min.time()))
        subs.append((sid, empresa_id, plan, periodo, inicio.isoformat(), fin.isoformat(), estado,
                     empresa_id if estado == "activa" else None, precio, 0, int(periodo == "anual"),
                     motivo, admin_id, when, when))
        return sid

    for i in range(1, n_emp + 1):
        if rng.random() < 0.4:
            inicio = today - timedelta(days=rng.randint(400, 700))
            sub_row(i, rng.randint(1, 4), "anual", inicio, inicio + timedelta(days=365), "cancelada",
                    "Cambio de plan")
    for i in range(1, n_emp + 1):
        kind, plan = kinds[i - 1], rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
        periodo = "anual" if rng.random() < 0.4 else "mensual"
        length = timedelta(days=365 if periodo == "anual" else 30)
        if kind == "ninguna":
            continue
        if kind == "vencida":
            inicio = today - length - timedelta(days=rng.randint(1, 60))
        else:
            inicio = today - timedelta(days=rng.randint(0, length.days - 2))
        estado = {"vigente": "activa", "vencida": "activa"}.get(kind, kind)
        motivo = "Falta de pago" if kind == "cancelada" else None
        current_sub[i] = (sub_row(i, plan, periodo, inicio, inicio + length, estado, motivo), kind)
    timed("suscripciones", ("id", "empresa_id", "plan_id", "periodo", "fecha_inicio", "fecha_fin",
                            "estado", "empresa_activa_id", "precio_pagado", "porcentaje_descuento",
                            "renovacion_automatica", "motivo_cancelacion", "creado_por", "created_at",
                            "updated_at"), subs)

    # Support: an unlimited monthly type, a 100,000-ticket bundle and an hours bundle.
    tipos = [(1, "Bench ilimitado", "Soporte mensual sin límite", "mensual", 300_000, None, None),
             (2, "Bench bolsa tickets", "Bolsa de tickets", "por_tickets", 900_000, 100_000, None),
             (3, "Bench bolsa horas", "Bolsa de horas", "por_horas", 1_500_000, None, 10_000)]
    timed("soporte_tipos", ("id", "nombre", "descripcion", "modalidad", "precio", "max_tickets",
                            "max_horas", "activo", "created_at", "updated_at"),
          [(*t, 1, dt(now - two_years), dt(now - two_years)) for t in tipos])
    # Every company with a current subscription has an `activo` support subscription covering
    # today (70% unlimited, 20% ticket bundle, 10% hours bundle).
    soportes: dict[int, tuple[int, int]] = {}  # empresa_id -> (soporte id, tipo)
    rows = []
    for i, (sus_id, _kind) in current_sub.items():
        tipo = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
        soporte_id = len(rows) + 1
        soportes[i] = (soporte_id, tipo)
        inicio = today - timedelta(days=rng.randint(1, 300))
        rows.append([soporte_id, i, sus_id, tipo, inicio.isoformat(),
                     (inicio + timedelta(days=365)).isoformat(), "activo", tipos[tipo - 1][4], 0, 0,
                     admin_id, dt(datetime.combine(inicio, datetime.min.time())),
                     dt(datetime.combine(inicio, datetime.min.time()))])

    # Tickets, oldest first, across the companies with support; consumption counted.
    with_support = sorted(soportes)
    estados = _weighted(rng, ESTADOS_TICKET, sizes.tickets)
    prioridades = _weighted(rng, PRIORIDADES, sizes.tickets)
    span = two_years.total_seconds()
    consumidos: dict[int, int] = {}
    horas: dict[int, float] = {}

    def tickets():
        for t in range(1, sizes.tickets + 1):
            empresa_id = rng.choice(with_support)
            soporte_id, tipo = soportes[empresa_id]
            consumidos[soporte_id] = consumidos.get(soporte_id, 0) + 1
            estado = estados[t - 1]
            at = now - two_years + timedelta(seconds=int(t * span / (sizes.tickets + 1)))
            cerrado = at + timedelta(hours=rng.randint(1, 240)) if estado == "cerrado" else None
            horas_t = None
            if estado == "cerrado":
                horas_t = round(rng.uniform(0.25, 8), 2)
                if tipo == 3:
                    horas[soporte_id] = horas.get(soporte_id, 0) + horas_t
            usuario = rng.choice((*user_ids_of(empresa_id), None))
            asignado = rng.choice((*soporte_ids, None)) if estado != "abierto" else None
            asunto = ASUNTOS[t % len(ASUNTOS)]
            meta = None if t % 3 else f'{{"origen": "saas", "instancia": "i-{empresa_id}", "n": {t}}}'
            updated = cerrado or at + timedelta(minutes=rng.randint(0, 600))
            yield (t, empresa_id, soporte_id, usuario, asignado, f"{asunto} #{t}",
                   f"{asunto}. Detalle del caso {t} reportado por la empresa {empresa_id}: "
                   f"{'pasos para reproducir, resultado esperado y obtenido. ' * (1 + t % 4)}",
                   estado, prioridades[t - 1], horas_t, meta, dt(cerrado) if cerrado else None, dt(at),
                   dt(min(updated, now)))

    ticket_columns = ("id", "empresa_id", "soporte_suscripcion_id", "usuario_id", "asignado_a",
                      "titulo", "descripcion", "estado", "prioridad", "horas_invertidas", "metadata",
                      "cerrado_at", "created_at", "updated_at")
    # Support subscriptions go in after the tickets were counted (tickets_consumidos).
    ticket_rows = list(tickets())
    for row in rows:
        row[8] = consumidos.get(row[0], 0)
        row[9] = round(horas.get(row[0], 0), 2)
    timed("soporte_suscripciones", ("id", "empresa_id", "suscripcion_id", "soporte_tipo_id",
                                    "fecha_inicio", "fecha_fin", "estado", "precio_actual",
                                    "tickets_consumidos", "horas_consumidas", "creado_por",
                                    "created_at", "updated_at"), [tuple(r) for r in rows])
    timed("soporte_tickets", ticket_columns, ticket_rows, chunk=2000)
    del ticket_rows

    # The audit trail: 1,000,000 rows over two years, as the hooks write them.
    n_users = 4 + 2 * n_emp
    audit_tables = (("soporte_tickets", 40, sizes.tickets), ("usuarios", 15, n_users),
                    ("suscripciones", 15, sid), ("empresas", 10, n_emp),
                    ("soporte_ticket_comentarios", 10, sizes.tickets * 2),
                    ("soporte_suscripciones", 5, len(rows)), ("api_keys", 3, n_emp),
                    ("planes", 1, 4), ("plan_servicios", 1, 20))
    values = {
        "soporte_tickets": ('{"estado": "abierto"}', '{"estado": "en_proceso", "asignado_a": 2}',
                            '{"titulo": "Error al generar factura", "estado": "abierto", '
                            '"prioridad": "alta"}'),
        "usuarios": ('{"is_active": true}', '{"password": "cambiada"}',
                     '{"nombre": "Usuario", "email": "u@empresa.example.com", "rol": "cliente"}'),
        "suscripciones": ('{"estado": "activa"}', '{"estado": "suspendida"}',
                          '{"plan_id": 2, "periodo": "mensual", "estado": "activa", '
                          '"precio_pagado": 120000.0}'),
        "empresas": ('{"estado": "activa"}', '{"telefono": "+573001234567"}',
                     '{"nit": "800000001-1", "nombre": "Empresa Bench", "estado": "activa"}'),
    }
    generic = ('{"estado": "activo"}', '{"contenido": "Respuesta del equipo de soporte"}',
               '{"cantidad": 5}')
    names, weights, limits = zip(*audit_tables, strict=True)
    chosen = rng.choices(range(len(names)), weights=weights, k=sizes.audit)
    actors = (admin_id, *soporte_ids, None, None)
    ips = [f"10.{a}.{b}.{c}" for a, b, c in ((rng.randint(0, 255), rng.randint(0, 255),
                                              rng.randint(1, 254)) for _ in range(997))]

    def audit_rows():
        for a in range(1, sizes.audit + 1):
            k = chosen[a - 1]
            tabla = names[k]
            options = values.get(tabla, generic)
            r = rng.random()
            at = dt(now - two_years + timedelta(seconds=int(a * span / (sizes.audit + 1))))
            registro = str(rng.randint(1, limits[k]))
            if r < 0.5:
                yield (a, tabla, registro, "crear", None, options[2], actors[a % 6], ips[a % 997], at)
            elif r < 0.95:
                yield (a, tabla, registro, "actualizar", options[0], options[1], actors[a % 6],
                       ips[a % 997], at)
            else:
                yield (a, tabla, registro, "eliminar", options[2], None, actors[a % 6], ips[a % 997], at)

    timed("auditoria", ("id", "tabla", "registro_id", "accion", "valores_anteriores", "valores_nuevos",
                        "usuario_id", "ip", "created_at"), audit_rows(), chunk=10000)

    cur.execute("SET SESSION foreign_key_checks=1, unique_checks=1")
    cur.execute("ANALYZE TABLE empresas, usuarios, api_keys, suscripciones, soporte_suscripciones, "
                "soporte_tickets, auditoria")
    cur.fetchall()
    seconds = time.perf_counter() - start
    meta = {"complete": True, "built_at": now.isoformat(), "built_on": today.isoformat(),
            "build_seconds": round(seconds, 1), "schema_seconds": round(t_schema, 1),
            "sizes": sizes.__dict__, "counts": counts, "max_ticket_id": sizes.tickets,
            "max_audit_id": sizes.audit, "schema": schema}
    cur.executemany("REPLACE INTO bench_meta (k, v) VALUES (%s, %s)",
                    [(k, json.dumps(v)) for k, v in meta.items()])
    conn.commit()
    cur.close()
    conn.close()
    return seconds, meta


def reset(db: Database, meta: dict) -> None:
    """Bring a reused database back to its built state: drop what earlier runs added (tickets,
    their audit rows, sessions, sign-in log), recount the quotas, and move the subscription
    dates by the days since the build so the same ones are in force today."""
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM soporte_tickets WHERE id > %s", (meta["max_ticket_id"],))
            cur.execute("DELETE FROM auditoria WHERE id > %s", (meta["max_audit_id"],))
            for table in ("auth_refresh_tokens", "auth_sesiones", "auth_desafios", "log_accesos",
                          "correos_pendientes"):  # (the last one only where the schema has it)
                cur.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA=DATABASE() "
                            "AND TABLE_NAME=%s", (table,))
                if cur.fetchone():
                    cur.execute(f"DELETE FROM `{table}`")
            cur.execute("UPDATE soporte_suscripciones s SET tickets_consumidos = "
                        "(SELECT COUNT(*) FROM soporte_tickets t WHERE t.soporte_suscripcion_id = s.id)")
            cur.execute("UPDATE api_keys SET last_used_at = UTC_TIMESTAMP()")
            cur.execute("UPDATE usuarios SET last_login_at = NULL, last_login_ip = NULL")
            shift = (datetime.now(UTC).date() - date.fromisoformat(meta["built_on"])).days
            if shift:
                for table in ("suscripciones", "soporte_suscripciones"):
                    cur.execute(f"UPDATE `{table}` SET fecha_inicio = fecha_inicio + INTERVAL %s DAY, "
                                f"fecha_fin = fecha_fin + INTERVAL %s DAY", (shift, shift))
                cur.execute("REPLACE INTO bench_meta (k, v) VALUES ('built_on', %s)",
                            (json.dumps(datetime.now(UTC).date().isoformat()),))
        conn.commit()
    finally:
        conn.close()


def scenario_data(db: Database) -> Built:
    """NITs, the companies that may open tickets, and the login accounts, read from the data."""
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT nit FROM empresas ORDER BY id")
            nits = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT e.id FROM empresas e JOIN suscripciones s ON s.empresa_activa_id = e.id "
                "JOIN soporte_suscripciones ss ON ss.suscripcion_id = s.id "
                "JOIN soporte_tipos st ON st.id = ss.soporte_tipo_id "
                "WHERE e.estado = 'activa' AND s.fecha_inicio <= UTC_DATE() AND s.fecha_fin >= UTC_DATE() "
                "AND ss.estado = 'activo' AND ss.fecha_inicio <= UTC_DATE() AND ss.fecha_fin >= UTC_DATE() "
                "AND st.modalidad IN ('mensual', 'por_tickets') ORDER BY e.id")
            ticket_companies = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT u.email FROM usuarios u JOIN empresas e ON e.id = u.empresa_id "
                "WHERE u.rol = 'cliente' AND e.estado = 'activa' ORDER BY u.id LIMIT %s", (LOGIN_USERS,))
            emails = [r[0] for r in cur.fetchall()]
    finally:
        conn.close()
    if not nits or not ticket_companies or not emails:
        fail("the bench database has no companies, no company that may open tickets, or no users")
    return Built(nits, ticket_companies, emails)


# ---------------------------------------------------------------- processes

class Server:
    """A gunicorn started in its own process group, stopped with the whole group."""

    running: ClassVar[list[Server]] = []

    def __init__(self, name: str, app: str, port: int, env: dict, args, logdir: Path) -> None:
        self.name, self.port = name, port
        self.log_path = logdir / f"gunicorn-{name}.log"
        cmd = [str(BIN / "gunicorn"), "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--graceful-timeout", "5",
               "--timeout", "60"]
        if args.threads_per_worker:
            cmd += ["--threads", str(args.threads_per_worker)]
        self.cmd = [*cmd, app]
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        Server.running.append(self)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"gunicorn ({self.name}) exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        fail(f"gunicorn ({self.name}) not ready after {timeout:.0f} s:\n{self.tail()}")

    def drain(self, workers: int, timeout: float = 120) -> float:
        """Wait until the workers are idle; returns the seconds waited.

        When wrk stops, the requests it had in flight are still queued in gunicorn (up to one
        per connection: seconds of work for sign-ins), and would slow the next scenario down.
        Probes (`workers` at once) queue behind them; the server is idle once two batches in a
        row are answered within 0.25 s."""
        start = time.monotonic()
        fast = 0
        while fast < 2 and time.monotonic() - start < timeout:
            t0 = time.monotonic()
            threads = [threading.Thread(target=http, args=("GET", self.base + "/health"))
                       for _ in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            fast = fast + 1 if time.monotonic() - t0 < 0.25 else 0
        return time.monotonic() - start

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self in Server.running:
            Server.running.remove(self)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log_file.close()

    @classmethod
    def stop_all(cls) -> None:
        for server in list(cls.running):
            server.stop()


def _on_signal(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# ---------------------------------------------------------------- HTTP checks and requests

def http(method: str, url: str, headers: dict | None = None, body: str | None = None) -> tuple[int, str]:
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def login(base: str, email: str, password: str) -> str:
    status, body = http("POST", base + "/auth/login", {"Content-Type": "application/json"},
                        json.dumps({"email": email, "password": password}))
    if status != 200:
        fail(f"sign-in of {email} answered {status}: {body[:300]}")
    return json.loads(body)["access_token"]


def ticket_body(prioridad: str) -> str:
    return json.dumps({"titulo": "Bench ticket {n}",
                       "descripcion": "Creado por bench/load.py, petición {n}: el módulo de reportes "
                                      "responde lento al exportar.",
                       "prioridad": prioridad, "metadata": {"origen": "bench", "peticion": "{n}"}},
                      ensure_ascii=False)


def requests_for(scenario: str, built: Built, admin_token: str | None) -> list[tuple]:
    """(method, path, headers, body) of every request a scenario cycles through."""
    if scenario in ("ceiling", "licence"):
        headers = {} if scenario == "ceiling" else {"X-API-Key": GLOBAL_API_KEY}
        return [("GET", f"/api/suscripcion-activa/{nit}", headers, None) for nit in built.nits]
    if scenario == "licence-key":
        return [("GET", f"/api/suscripcion-activa/{nit}",
                 {"X-API-Key": company_key(int(nit[:9]) - 800000000)}, None) for nit in built.nits]
    if scenario == "health":
        return [("GET", "/health", {}, None)]
    if scenario == "ticket":
        prioridades = ("baja", "media", "media", "alta", "urgente")
        return [("POST", "/api/internal/support/create_tickets",
                 {"Content-Type": "application/json", "X-API-Key": company_key(e), "X-Empresa-Id": str(e)},
                 ticket_body(prioridades[e % len(prioridades)])) for e in built.ticket_companies]
    if scenario == "admin-tickets":
        rows = []
        for estado, _ in ESTADOS_TICKET:
            for prioridad in (*(p for p, _ in PRIORIDADES), None):
                for page in (1, 2):
                    query = f"estado={estado}" + (f"&prioridad={prioridad}" if prioridad else "")
                    rows.append(("GET", f"/admin/soporte-tickets?{query}&page={page}",
                                 {"Authorization": f"Bearer {admin_token}"}, None))
        return rows
    if scenario == "login":
        return [("POST", "/auth/login", {"Content-Type": "application/json"},
                 json.dumps({"email": email, "password": PASSWORD})) for email in built.login_emails]
    raise ValueError(scenario)


def write_requests(path: Path, rows) -> None:
    with path.open("w") as out:
        for method, target, headers, body in rows:
            header_text = "|".join(f"{k}: {v}" for k, v in headers.items()) or "-"
            for text in (target, header_text, body or ""):
                if "\t" in text or "\n" in text:
                    raise ValueError("tabs and newlines cannot be replayed by load.lua")
            out.write(f"{method}\t{target}\t{header_text}\t{body if body is not None else '-'}\n")


def preflight(scenario: str, base: str, rows, samples: int = 5) -> None:
    """A few of the scenario's exact requests, answered with the expected status, or stop."""
    expected = EXPECTED_STATUS[scenario]
    step = max(len(rows) // samples, 1)
    for index, (method, target, headers, body) in enumerate(rows[::step][:samples]):
        n = str(900_000_000 + index)
        status, answer = http(method, base + target.replace("{n}", n), headers,
                              body.replace("{n}", n) if body else None)
        if status != expected:
            fail(f"{scenario}: {method} {target} answered {status}, expected {expected}: {answer[:400]}")
        if scenario == "login" and "access_token" not in answer:
            fail(f"login answered without tokens (2FA on?): {answer[:300]}")


# ---------------------------------------------------------------- wrk

def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        path = shutil.which("wrk")
    if not path:
        fail("wrk is missing: install it (Debian: apt-get install wrk)")
    return path


def run_wrk(wrk: str, base: str, requests_file: Path, args, duration: float) -> dict:
    threads = min(args.threads, args.connections)
    cmd = [wrk, "-t", str(threads), "-c", str(args.connections), "-d", f"{duration:g}s",
           "--timeout", f"{args.timeout:g}s", "-s", str(LUA), base, "--", str(requests_file)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("WRKJSON "):
            figures = json.loads(line[len("WRKJSON "):])
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            return figures
    fail(f"wrk gave no figures (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return {}  # unreachable


# ---------------------------------------------------------------- report

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    wrk_version = subprocess.run([shutil.which("wrk") or "wrk", "-v"], capture_output=True,
                                 text=True).stdout.splitlines()
    gunicorn_version = subprocess.run([str(BIN / "gunicorn"), "--version"], capture_output=True,
                                      text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram, "python": platform.python_version(),
            "wrk": (wrk_version[0].split(" [")[0] if wrk_version else "wrk"),
            "gunicorn": gunicorn_version, "kernel": platform.release(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def ms(us: float) -> str:
    if us >= 1_000_000:
        return f"{us / 1e6:.2f} s"
    return f"{us / 1000:.1f} ms" if us >= 10_000 else f"{us / 1000:.2f} ms"


def rate(rps: float) -> str:
    return f"{rps:,.0f}" if rps >= 100 else f"{rps:.1f}"


def report(results: dict[str, list[dict]], order: list[str]) -> bool:
    """Print the table; False when some scenario had non-2xx/3xx answers or socket errors."""
    ceiling = results["ceiling"]
    rounds = len(ceiling)
    print()
    print(f"Medians over {rounds} alternating rounds; ratios are the median of each round's ratio "
          "to the ceiling (rps ratio: fraction of its throughput; p99 ratio: times its p99).")
    print()
    print("| scenario | rps | p50 | p95 | p99 | rps / ceiling | p99 / ceiling | 4xx/5xx | socket errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    clean = True
    for name in ["ceiling", *order]:
        runs = results[name]
        rps = statistics.median(r["rps"] for r in runs)
        p50, p95, p99 = (statistics.median(r[k] for r in runs) for k in ("p50_us", "p95_us", "p99_us"))
        rps_ratio = statistics.median(r["rps"] / c["rps"] for r, c in zip(runs, ceiling, strict=True))
        p99_ratio = statistics.median(r["p99_us"] / c["p99_us"] for r, c in zip(runs, ceiling, strict=True))
        failed = sum(r["errors"]["status"] for r in runs)
        sockets = sum(r["errors"][k] for r in runs for k in ("connect", "read", "write", "timeout"))
        clean = clean and failed == 0 and sockets == 0
        print(f"| {DESCRIPTIONS[name]} | {rate(rps)} | {ms(p50)} | {ms(p95)} | {ms(p99)} | "
              f"{rps_ratio:.3f} | {p99_ratio:.1f} | {failed} | {sockets} |")
    print()
    per_round = ", ".join(f"{name} " + "/".join(rate(r["rps"]) for r in results[name])
                          for name in ["ceiling", *order])
    print(f"rps per round: {per_round}")
    return clean


# ---------------------------------------------------------------- main

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per scenario (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=float, default=30,
                        help="wrk request timeout, s (default 30: sign-ins queue for seconds)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    parser.add_argument("--threads-per-worker", type=int, default=0,
                        help="gunicorn --threads (gthread); 0: gunicorn's default")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                        help=f"comma separated, of: {', '.join(SCENARIOS)} (the ceiling always runs)")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", type=int, default=3306)
    parser.add_argument("--db-user", default="root")
    parser.add_argument("--db-password", default="")
    parser.add_argument("--db-name", default="bench_load", help="the throwaway database (default bench_load)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--reuse-db", action="store_true",
                        help="reuse a complete earlier build of --db-name (reset to its built state); "
                             "build it if there is none; keep it at the end")
    parser.add_argument("--only-build", action="store_true", help="build (or check) the data, keep it, stop")
    parser.add_argument("--schema", choices=("migrations", "create-all"), default="migrations",
                        help="how the schema is made: `flask db upgrade heads` (default) or the "
                             "models' db.create_all() through the app factory")
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--licence-nits", type=int, default=1_000,
                        help="companies whose NITs the licence scenarios cycle through (default 1,000)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379",
                        help="Redis for the licence cache, rate limits and Celery broker (databases "
                             "13, 14, 15, flushed at start and end); 'none': in-process cache, "
                             "in-memory limits, eager mail to a temporary outbox")
    parser.add_argument("--json", metavar="FILE", help="also write every run's raw wrk figures here")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the work directory (gunicorn output, the app's logs, request files)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra setting for the app (e.g. LICENSE_CACHE_SECONDS=0); repeatable")
    args = parser.parse_args()
    unknown = [s for s in args.scenarios.split(",") if s and s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds and --duration must be positive")
    return args


def app_env(args, db: Database, workdir: Path) -> dict:
    """The environment of the app: production settings on the bench database."""
    from backend.licencia.signing import new_private_key_pem

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DB_", "REDIS", "RATELIMIT", "CELERY", "LICENSE_", "AUTH_RATE"))}
    env.update({
        "APP_ENV": "production",
        "DATABASE_URL": db.url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "LICENSE_SIGNING_KEY": new_private_key_pem().decode(),
        "SAAS_API_KEY": GLOBAL_API_KEY,
        "AUTH_RATE_IP": BENCH_AUTH_RATE_IP,
        "LOG_DIR": str(workdir / "logs"),
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "PYTHONUNBUFFERED": "1",
    })
    if args.redis != "none":
        for name, number in REDIS_DBS.items():
            env[name] = f"{args.redis.rstrip('/')}/{number}"
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--env {item!r}: expected NAME=VALUE")
        env[name] = value
    return env


def flush_redis(args) -> None:
    if args.redis == "none":
        return
    import redis

    for number in REDIS_DBS.values():
        try:
            redis.Redis.from_url(f"{args.redis.rstrip('/')}/{number}", socket_connect_timeout=2).flushdb()
        except redis.RedisError as exc:
            fail(f"Redis at {args.redis} is unreachable: {exc} (or run with --redis none)")


def main() -> int:
    args = parse_args()
    order = [s for s in args.scenarios.split(",") if s]
    signal.signal(signal.SIGTERM, _on_signal)
    atexit.register(Server.stop_all)
    db = Database(args.db_host, args.db_port, args.db_user, args.db_password, args.db_name)
    version = db.server_version()  # fails loudly when MariaDB is unreachable
    keep = args.keep_db or args.reuse_db or args.only_build
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = app_env(args, db, workdir)
    wrk = None if args.only_build else ensure_wrk()
    built_here = False
    try:
        meta = read_meta(db) if args.reuse_db else None
        sizes = Sizes(args.companies, args.tickets, args.audit)
        if meta and meta["sizes"] != sizes.__dict__:
            log(f"the kept build has other sizes ({meta['sizes']}): building again")
            meta = None
        if meta:
            log(f"reusing {db.name} built {meta['built_at']} in {meta['build_seconds']} s; resetting it")
            t0 = time.perf_counter()
            if meta.get("schema", "migrations") == "migrations":
                upgrade_schema(env)  # migrations added since the build (their tables start empty)
            reset(db, meta)
            log(f"reset in {time.perf_counter() - t0:.1f} s")
            build_seconds = meta["build_seconds"]
        else:
            built_here = True
            build_seconds, meta = build(db, sizes, env, args.schema)
            log(f"BUILD: {build_seconds:.1f} s for {sizes.companies:,} companies, {sizes.tickets:,} "
                f"tickets, {sizes.audit:,} audit rows (schema {meta['schema_seconds']} s)")
        if args.only_build:
            return 0
        built = scenario_data(db)
        built.nits = built.nits[:args.licence_nits]
        flush_redis(args)
        load_before = os.getloadavg()[0]
        results = run_benchmark(args, env, built, order, wrk, workdir)
        info = machine()
        info["loadavg"] = f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
        print(f"\nMachine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, "
              f"kernel {info['kernel']}; MariaDB {version}; Python {info['python']}; "
              f"{info['gunicorn']}; {info['wrk']}; {info['date']}; load average {info['loadavg']}")
        print(f"Settings: gunicorn --workers {args.workers} --worker-class {args.worker_class}"
              f"{f' --threads {args.threads_per_worker}' if args.threads_per_worker else ''}; "
              f"wrk -t{min(args.threads, args.connections)} -c{args.connections} -d{args.duration:g}s, "
              f"{args.warmup:g} s warm-up per scenario; APP_ENV=production, "
              f"Redis {'off' if args.redis == 'none' else 'on'}"
              f"{'; ' + ' '.join(args.env) if args.env else ''}")
        print(f"Data: {meta['counts']} (build {build_seconds:.1f} s{'' if built_here else ', reused'})")
        ok = report(results, order)
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": info, "mariadb": version, "args": vars(args),
                                                   "build_seconds": build_seconds, "counts": meta["counts"],
                                                   "results": results}, indent=1, default=str))
        if not ok:
            print("\nINVALID: some scenario had 4xx/5xx answers or socket errors (see the table).")
            return 1
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        Server.stop_all()
        flush_redis_quietly(args)
        if not keep:
            log(f"dropping {db.name} (--keep-db or --reuse-db keep it)")
            drop_database(db)
        if args.keep_logs:
            log(f"logs and request files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def flush_licence_cache(args) -> None:
    """Empty the licence cache in Redis (REDIS_URL's database) before the warm-up, so that what
    an earlier run left there is not measured (each process's memory starts empty)."""
    if args.redis == "none":
        return  # the in-process caches cannot be reached (entries live LICENSE_CACHE_SECONDS)
    import redis

    redis.Redis.from_url(f"{args.redis.rstrip('/')}/{REDIS_DBS['REDIS_URL']}").flushdb()


def flush_redis_quietly(args) -> None:
    with contextlib.suppress(SystemExit):
        flush_redis(args)


def run_benchmark(args, env: dict, built: Built, order: list[str], wrk: str,
                  workdir: Path) -> dict[str, list[dict]]:
    app = Server("app", "wsgi:app", free_port(), env, args, workdir)
    ceiling_env = {k: v for k, v in os.environ.items()}
    ceiling = Server("ceiling", "bench.ceiling:app", free_port(), ceiling_env, args, workdir)
    log(f"gunicorn: app on :{app.port}, ceiling on :{ceiling.port} "
        f"({args.workers} {args.worker_class} workers each)")
    app.wait_ready("/health")
    ceiling.wait_ready("/health")
    admin_token = login(app.base, ADMIN_EMAIL, PASSWORD) if "admin-tickets" in order else None
    files: dict[str, Path] = {}
    for name in ["ceiling", *order]:
        rows = requests_for(name, built, admin_token)
        preflight(name, ceiling.base if name == "ceiling" else app.base, rows)
        files[name] = workdir / f"{name}.requests"
        write_requests(files[name], rows)
    log("every scenario answers as expected; warming up")

    def server_of(name: str) -> Server:
        return ceiling if name == "ceiling" else app

    def base_of(name: str) -> str:
        return server_of(name).base

    flush_licence_cache(args)
    for name in ["ceiling", *order]:
        figures = run_wrk(wrk, base_of(name), files[name], args, args.warmup)
        server_of(name).drain(args.workers)
        log(f"  warm-up {name}: {figures['rps']:.0f} rps")
    results: dict[str, list[dict]] = {name: [] for name in ["ceiling", *order]}
    for number in range(1, args.rounds + 1):
        names = ["ceiling", *order]
        if number % 2 == 0:
            names.reverse()
        for name in names:
            if name == "admin-tickets":  # a fresh token each round (they live 30 minutes)
                admin_token = login(app.base, ADMIN_EMAIL, PASSWORD)
                write_requests(files[name], requests_for(name, built, admin_token))
            figures = run_wrk(wrk, base_of(name), files[name], args, args.duration)
            figures["drain_s"] = server_of(name).drain(args.workers)
            results[name].append(figures)
            log(f"round {number} {name}: {rate(figures['rps'])} rps, p99 {ms(figures['p99_us'])}, "
                f"4xx/5xx {figures['errors']['status']}")
    for server in (app, ceiling):
        if server.proc.poll() is not None:
            fail(f"gunicorn ({server.name}) died during the run:\n{server.tail()}")
    problems = app.tail(20)
    if "Traceback" in problems or "CRITICAL" in problems:
        print(f"\napp gunicorn log tail:\n{problems}")
    return results


if __name__ == "__main__":
    sys.exit(main())
