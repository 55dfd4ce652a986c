"""The staff panel in a real browser (Debian's headless Chromium through chromedriver)
against the live gunicorn deployment: a `soporte` staff member with 2FA signs in, opens a
ticket for a company, replies and closes it; the database, the audit trail and the mail sink
show it. Screenshots of the dashboard and of the ticket page are saved in
PANEL_SCREENSHOTS_DIR (docs/screenshots/ for the README) or in the test's tmp folder."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pyotp
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import create_engine, text

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, SAAS_API_KEY

STAFF_EMAIL = "soporte.e2e@example.com"
STAFF_PASSWORD = "Soporte#E2e-2024"
CONTACT_EMAIL = "contacto@panel-e2e.example.com"
WAIT = 15


@pytest.fixture
def browser():
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1366,1000", "--lang=es"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("PANEL_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _api(live, session, method: str, path: str, token: str | None = None, **json):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = session.request(method, live.url(path), json=json or None, headers=headers, timeout=10)
    assert response.status_code < 300, (method, path, response.status_code, response.text)
    return response.json() if response.content else None


@pytest.fixture
def desk(live):
    """Over the JSON API: a company with a valid plan subscription and a support subscription
    of 5 tickets, and a `soporte` staff member with 2FA on. Returns what the browser needs."""
    http = live.session()
    admin = _api(live, http, "POST", "/auth/login", email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    token = admin["access_token"]
    empresa = _api(live, http, "POST", "/admin/empresas", token, nit="901777888-1",
                   nombre="Panel E2E SAS", email=CONTACT_EMAIL)
    plan = _api(live, http, "POST", "/admin/planes", token, nombre="Plan panel e2e",
                precio_mensual=120, precio_anual=1200)
    suscripcion = _api(live, http, "POST", "/admin/suscripciones", token, empresa_id=empresa["id"],
                       plan_id=plan["id"], periodo="mensual")
    tipo = _api(live, http, "POST", "/admin/soporte-tipos", token, nombre="Bolsa e2e",
                modalidad="por_tickets", precio=300, max_tickets=5)
    _api(live, http, "POST", "/admin/soporte-suscripciones", token, empresa_id=empresa["id"],
         suscripcion_id=suscripcion["id"], soporte_tipo_id=tipo["id"])
    staff = _api(live, http, "POST", "/admin/usuarios", token, nombre="Sofía Soporte",
                 email=STAFF_EMAIL, password=STAFF_PASSWORD, rol="soporte")
    own = _api(live, http, "POST", "/auth/login", email=STAFF_EMAIL, password=STAFF_PASSWORD)
    secret = _api(live, http, "POST", "/auth/otp/setup", own["access_token"])["secret"]
    _api(live, http, "POST", "/auth/otp/activate", own["access_token"],
         otp_code=pyotp.TOTP(secret).now(), password=STAFF_PASSWORD)
    return {"empresa": empresa, "staff": staff, "secret": secret}


def _wait(driver, locator):
    return WebDriverWait(driver, WAIT).until(ec.presence_of_element_located(locator))


def _replaced(page):
    """A wait condition: `page` (an element) no longer belongs to the document shown. While the
    new page replaces it, Chromium may say so with an inspector error instead of a stale
    element (seen once in CI: "Node with given id does not belong to the document")."""

    def gone(_driver) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in (exc.msg or ""):
                return True
            raise
        return False

    return gone


def _submit(driver, locator) -> None:
    """Click a submit button and wait until the answer page has replaced this one (so no
    later lookup can find an element of the old page)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(*locator).click()
    WebDriverWait(driver, WAIT).until(_replaced(page))


def _choose(driver, field_id: str, label: str) -> None:
    """Pick an option by its text or value; Flask-Admin dresses selects with select2, which hides the
    <select> itself, so the choice goes to the <select> the form submits."""
    select = Select(_wait(driver, (By.ID, field_id)))
    [option] = [o for o in select.options
                if label in (o.get_attribute("textContent").strip(), o.get_attribute("value"))]
    driver.execute_script("arguments[0].value = arguments[1];"
                          "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                          select._el, option.get_attribute("value"))


def _rows(live, sql: str, **params) -> list:
    engine = create_engine(live.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


@pytest.mark.integration
def test_staff_signs_in_with_2fa_opens_replies_and_closes_a_ticket(live, browser, desk, shots):
    driver = browser
    driver.get(live.url("/panel/"))
    _wait(driver, (By.ID, "email")).send_keys(STAFF_EMAIL)
    driver.find_element(By.ID, "password").send_keys(STAFF_PASSWORD)
    _submit(driver, (By.ID, "entrar"))
    # The activation used the current 30-second step; the next one is inside the window.
    code = pyotp.TOTP(desk["secret"]).at(time.time() + 30)
    _wait(driver, (By.ID, "otp_code")).send_keys(code)
    _submit(driver, (By.ID, "verificar"))
    _wait(driver, (By.ID, "salir"))
    assert "Sofía Soporte" in driver.page_source and "Tickets abiertos" in driver.page_source

    driver.get(live.url("/panel/soporte-tickets/new/"))
    empresa = desk["empresa"]
    _choose(driver, "empresa_id", f"{empresa['nombre']} (NIT {empresa['nit']})")
    driver.find_element(By.ID, "titulo").send_keys("No se generan las facturas")
    driver.find_element(By.ID, "descripcion").send_keys("Desde ayer el botón Facturar no responde.")
    _choose(driver, "prioridad", "alta")
    _submit(driver, (By.CSS_SELECTOR, "form.admin-form input[type=submit]"))
    assert "/new/" not in driver.current_url
    [(ticket_id, estado, consumidos)] = _rows(live, """
        SELECT t.id, t.estado, s.tickets_consumidos FROM soporte_tickets t
        JOIN soporte_suscripciones s ON s.id = t.soporte_suscripcion_id
        WHERE t.empresa_id = :e""", e=empresa["id"])
    assert (estado, consumidos) == ("abierto", 1)

    driver.get(live.url(f"/panel/soporte-tickets/details/?id={ticket_id}"))
    _wait(driver, (By.ID, "respuesta")).send_keys("Ya lo estamos revisando; le escribimos pronto.")
    _submit(driver, (By.ID, "enviar-respuesta"))
    assert "Ya lo estamos revisando" in _wait(driver, (By.TAG_NAME, "body")).text
    _submit(driver, (By.ID, "accion-cerrar"))
    assert _wait(driver, (By.ID, "ticket-estado")).text.strip().lower() == "cerrado"
    driver.save_screenshot(str(shots / "ticket.png"))

    # Two more tickets from the company's SaaS instance, so the dashboard has figures to draw.
    http = live.session()
    for titulo, prioridad in (("Error al exportar", "urgente"), ("Duda de nómina", "baja")):
        created = http.post(live.url("/api/internal/support/create_tickets"),
                            headers={"X-API-Key": SAAS_API_KEY, "X-Empresa-Id": str(empresa["id"])},
                            json={"titulo": titulo, "descripcion": "Desde la instancia.",
                                  "prioridad": prioridad}, timeout=10)
        assert created.status_code == 201, created.text
    driver.get(live.url("/panel/"))
    _wait(driver, (By.ID, "salir"))
    driver.save_screenshot(str(shots / "dashboard.png"))

    # A delete asks first (Flask-Admin's inline prompt is restored by static/panel/confirm.js);
    # dismissing it sends nothing.
    driver.get(live.url("/panel/soporte-tipos/"))
    _wait(driver, (By.CSS_SELECTOR, "button[onclick*='safeConfirm']")).click()
    WebDriverWait(driver, WAIT).until(ec.alert_is_present()).dismiss()
    assert _rows(live, "SELECT COUNT(*) FROM soporte_tipos WHERE nombre = 'Bolsa e2e'") == [(1,)]

    staff_id = desk["staff"]["id"]
    assert _rows(live, "SELECT estado FROM soporte_tickets WHERE id = :t", t=ticket_id) == [("cerrado",)]
    assert _rows(live, """SELECT es_admin, interno, usuario_id FROM soporte_ticket_comentarios
                          WHERE ticket_id = :t""", t=ticket_id) == [(1, 0, staff_id)]
    audit = _rows(live, """SELECT accion, usuario_id FROM auditoria WHERE tabla = 'soporte_tickets'
                           AND registro_id = :r ORDER BY id""", r=str(ticket_id))
    assert audit[0] == ("crear", staff_id) and ("actualizar", staff_id) in audit[1:]
    assert _rows(live, """SELECT tipo, exitoso, detalle FROM log_accesos WHERE usuario_id = :u
                          ORDER BY id DESC LIMIT 1""", u=staff_id) == [("login", 1, "panel:otp")]
    reply = live.mailbox.wait_for(CONTACT_EMAIL)
    assert "Ya lo estamos revisando" in live.mailbox.text(reply)
    for shot in ("dashboard.png", "ticket.png"):
        assert (shots / shot).stat().st_size > 10_000
