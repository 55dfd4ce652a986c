"""The ceiling of bench/load.py: a bare Flask app that answers a licence-sized JSON.

No database, no auth, no signature, no hooks: what Flask and gunicorn alone cost per request
for an answer of the size and shape of `GET /api/suscripcion-activa/:nit` (748 bytes; the real
ones are 700 to 1,050 bytes of body plus the signature headers).
Served by bench/load.py under exactly the same gunicorn settings as the app
(`gunicorn bench.ceiling:app`, from the project root).
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, jsonify

app = Flask(__name__)

SERVICIOS = [{"nombre": f"Servicio {n}", "cantidad": n + 1, "url_api": f"https://api.example.com/s{n}"}
             for n in range(5)]


@app.get("/api/suscripcion-activa/<string:nit>")
def licencia(nit: str):
    """A VALIDA licence answer for `nit` (fixed values, the same keys as the real one)."""
    return jsonify({
        "activa": True,
        "codigo": "VALIDA",
        "empresa": {"id": 1234, "nit": nit, "nombre": "Empresa Bench 01234 S.A.S.", "estado": "activa"},
        "suscripcion": {"id": 5678, "plan": {"id": 2, "nombre": "Plan Bench Profesional"},
                        "periodo": "mensual", "fecha_inicio": "2026-01-01",
                        "fecha_fin": "2027-01-01", "estado": "activa"},
        "servicios": SERVICIOS,
        "nit": nit,
        "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    })


@app.get("/health")
def health():
    return jsonify({"status": "ok"})
