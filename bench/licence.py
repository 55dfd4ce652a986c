"""Median latency of GET /api/suscripcion-activa/:nit against GET /health, same run.

Usage: .venv/bin/python bench/licence.py [-n 500] [--no-cache] [--company-key]
Uses the test configuration (SQLite in memory unless DATABASE_URL is set) and Flask's test
client, so it measures the application (auth, cache, query, signing), not the network.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend import create_app
from backend.catalogo.models import Plan, PlanServicio, Servicio
from backend.config import TestingConfig
from backend.empresas.models import Empresa
from backend.extensions import db
from backend.suscripciones.models import Suscripcion

NIT = "900123456-7"


def _seed() -> None:
    empresa = Empresa(nit=NIT, nombre="Bench S.A.S.")
    plan = Plan(nombre="Bench", precio_mensual=Decimal("1.00"), precio_anual=Decimal("10.00"))
    db.session.add_all([empresa, plan])
    db.session.flush()
    for n in range(5):
        servicio = Servicio(nombre=f"Servicio {n}", url_api=f"/api/s{n}")
        db.session.add(servicio)
        db.session.flush()
        db.session.add(PlanServicio(plan_id=plan.id, servicio_id=servicio.id, cantidad=n + 1))
    db.session.add(Suscripcion(empresa_id=empresa.id, plan_id=plan.id, periodo="mensual",
                               fecha_inicio=date.today() - timedelta(days=1),
                               fecha_fin=date.today() + timedelta(days=29), estado="activa"))
    db.session.commit()


def _median_ms(client, url: str, headers: dict, n: int, expect: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        if response.status_code != expect:
            raise SystemExit(f"{url} answered {response.status_code}: {response.get_data(as_text=True)}")
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="requests per endpoint (default 500)")
    parser.add_argument("--no-cache", action="store_true", help="LICENSE_CACHE_SECONDS=0")
    parser.add_argument("--company-key", action="store_true", help="use a per-company key")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        config = TestingConfig()
        config.LICENSE_SIGNING_KEY_PATH = str(Path(tmp) / "bench.pem")
        config.MAIL_OUTBOX_DIR = str(Path(tmp) / "outbox")
        config.LOG_LEVEL = "WARNING"
        if args.no_cache:
            config.LICENSE_CACHE_SECONDS = 0
        app = create_app(config.finalize())
        with app.app_context():
            db.drop_all()
            db.create_all()
            try:
                _seed()
                headers = {"X-API-Key": app.config["SAAS_API_KEY"]}
                if args.company_key:
                    from backend.empresas.api_keys import create_key

                    headers = {"X-API-Key": create_key(db.session.scalar(db.select(Empresa.id)))[1]}
                client = app.test_client()
                url = f"/api/suscripcion-activa/{NIT}"
                _median_ms(client, "/health", {}, 20, 200)  # warm up
                _median_ms(client, url, headers, 20, 200)
                health = _median_ms(client, "/health", {}, args.n, 200)
                licence = _median_ms(client, url, headers, args.n, 200)
            finally:
                db.session.remove()
                db.drop_all()
    mode = ("no cache" if args.no_cache else f"cache {app.config['LICENSE_CACHE_SECONDS']}s") + (
        ", company key" if args.company_key else ", global key")
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]} ({mode}), N={args.n}")
    print(f"/health                      median {health:.3f} ms")
    print(f"/api/suscripcion-activa/:nit median {licence:.3f} ms")
    print(f"ratio licence/health         {licence / health:.2f}")


if __name__ == "__main__":
    main()
