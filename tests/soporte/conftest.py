"""Support desk test data: support types, support subscriptions and tickets stored as they
would exist before the test (no audit rows), a company whose plan subscription is valid, and
headers for the internal API."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
import requests

from backend.soporte.models import (
    EstadoSoporte,
    Modalidad,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTipo,
)
from backend.soporte.storage import LocalStorage, S3Storage
from tests.conftest import persist
from tests.servers import free_port, stop

GLOBAL_KEY = "test-global-api-key"
# The keys of the ticket, comment and attachment objects (the same through /admin and the
# internal API).
TICKET_KEYS = {"id", "empresa_id", "titulo", "descripcion", "estado", "prioridad", "usuario_id",
               "asignado_a", "horas_invertidas", "metadata", "created_at", "updated_at",
               "cerrado_at"}
COMENTARIO_KEYS = {"id", "ticket_id", "contenido", "interno", "es_admin", "usuario_id",
                   "created_at"}
ARCHIVO_KEYS = {"id", "nombre", "tamano", "content_type", "sha256", "created_at"}


@pytest.fixture
def plan_vigente(make_plan):
    return make_plan(nombre="Plan soporte", servicios={"Facturas": 1})


@pytest.fixture
def suscripcion_vigente(empresa, plan_vigente, make_suscripcion):
    """The `empresa` fixture's valid plan subscription (activa, covering today)."""
    return make_suscripcion(empresa, plan_vigente, estado="activa")


@pytest.fixture
def make_tipo(db):
    counter = iter(range(1, 10_000))

    def factory(modalidad: Modalidad | str = Modalidad.POR_TICKETS, **values) -> SoporteTipo:
        n = next(counter)
        modalidad = Modalidad(str(modalidad))
        values.setdefault("nombre", f"Soporte {n}")
        values.setdefault("precio", Decimal("150.00"))
        if modalidad == Modalidad.POR_TICKETS:
            values.setdefault("max_tickets", 3)
        if modalidad == Modalidad.POR_HORAS:
            values.setdefault("max_horas", Decimal("10.00"))
        return persist(db, SoporteTipo(modalidad=modalidad, **values))

    return factory


@pytest.fixture
def make_soporte(db):
    """A support subscription of `suscripcion`'s company: `activo` from yesterday for a month
    unless told otherwise."""

    def factory(suscripcion, tipo: SoporteTipo, **values) -> SoporteSuscripcion:
        values.setdefault("fecha_inicio", date.today() - timedelta(days=1))
        values.setdefault("fecha_fin", date.today() + timedelta(days=29))
        values.setdefault("estado", EstadoSoporte.ACTIVO)
        values.setdefault("precio_actual", tipo.precio)
        values.setdefault("tickets_consumidos", 0)
        values.setdefault("horas_consumidas", Decimal("0.00"))
        return persist(db, SoporteSuscripcion(empresa_id=suscripcion.empresa_id,
                                              suscripcion_id=suscripcion.id,
                                              soporte_tipo_id=tipo.id, **values))

    return factory


@pytest.fixture
def soporte_activo(suscripcion_vigente, make_tipo, make_soporte):
    """The `empresa` fixture with a `por_tickets` support subscription of 3 tickets, none spent."""
    return make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_TICKETS, max_tickets=3))


@pytest.fixture
def make_ticket(db):
    """A ticket stored directly (no quota spent, no email): for tests about what follows."""

    def factory(empresa, soporte: SoporteSuscripcion | None = None, **values) -> SoporteTicket:
        values.setdefault("titulo", "No puedo facturar")
        values.setdefault("descripcion", "El botón de facturar no responde.")
        return persist(db, SoporteTicket(
            empresa_id=empresa.id, soporte_suscripcion_id=soporte.id if soporte else None,
            **values))

    return factory


@pytest.fixture
def internal_headers(empresa):
    """X-API-Key (the global key) and X-Empresa-Id of the `empresa` fixture."""
    return {"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": str(empresa.id)}


# ---------------------------------------------------------------- storage (attachments)
# A local folder, and real S3 over HTTP served by moto's standalone server (started once per
# session, stopped at the end).

S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region": "us-east-1"}




def _moto_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def _wait_until_up(endpoint: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("moto_server exited: " + log_path.read_text(errors="replace")[-3000:])
        try:
            if requests.get(f"{endpoint}/moto-api/", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet
            time.sleep(0.1)
    raise AssertionError("moto_server did not start: " + log_path.read_text(errors="replace")[-3000:])


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """`http://127.0.0.1:<port>` of a moto S3 server running in its own process."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(_moto_command(port), stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, process, log_path)
        yield endpoint
    finally:
        stop(process, timeout=10)


@pytest.fixture
def s3_client(moto_endpoint):
    """A plain boto3 client on the moto server, to look at buckets behind S3Storage's back."""
    client = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    yield client
    client.close()


@pytest.fixture
def s3_bucket(s3_client) -> str:
    """A fresh, empty bucket for one test."""
    name = f"adjuntos-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_s3_storage(moto_endpoint):
    """S3Storage with the test credentials; on the moto server unless told another endpoint."""
    def factory(bucket: str, endpoint_url: str | None = None) -> S3Storage:
        return S3Storage(bucket, endpoint_url=endpoint_url or moto_endpoint, **S3_CREDENTIALS)
    return factory


@pytest.fixture
def s3_storage(make_s3_storage, s3_bucket) -> S3Storage:
    return make_s3_storage(s3_bucket)


@pytest.fixture
def dead_endpoint() -> str:
    """An HTTP endpoint where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def local_storage(tmp_path) -> LocalStorage:
    return LocalStorage(str(tmp_path / "uploads"))


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def storage(request):
    """The same behaviour tests run against each backend."""
    return request.getfixturevalue(f"{request.param}_storage")
