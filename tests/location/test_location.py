"""/public/location: the catalogue built by `flask location build`, and the built-in fallback."""
from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import assert_error


@pytest.fixture
def built_db(app, runner, tmp_path, monkeypatch):
    """A catalogue with the cities of CO and PE only, used as LOCATION_DB_PATH."""
    path = tmp_path / "location.sqlite3"
    monkeypatch.setitem(app.config, "LOCATION_DB_PATH", str(path))
    result = runner.invoke(args=["location", "build", "--countries", "CO,pe"])
    assert result.exit_code == 0, result.output
    assert "ciudades escritos" in result.output
    return path


@pytest.fixture
def missing_db(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "LOCATION_DB_PATH", str(tmp_path / "nope.sqlite3"))


def test_build_writes_only_the_requested_cities(built_db):
    with sqlite3.connect(built_db) as conn:
        codes = {row[0] for row in conn.execute("SELECT DISTINCT iso2 FROM cities")}
        countries = conn.execute("SELECT count(*) FROM countries").fetchone()[0]
        bogota = conn.execute(
            "SELECT nombre, nombre_norm, poblacion FROM cities WHERE id = 3688689").fetchone()
    assert codes == {"CO", "PE"}
    assert countries > 240  # every country, Spanish names
    assert bogota[0] == "Bogotá" and bogota[1] == "bogota" and bogota[2] > 1_000_000


def test_build_refuses_unknown_codes(runner, tmp_path):
    result = runner.invoke(args=["location", "build", "--output", str(tmp_path / "x.db"),
                                 "--countries", "CO,ZZ"])
    assert result.exit_code != 0 and "ZZ" in result.output
    assert not (tmp_path / "x.db").exists()


def test_countries_by_prefix_in_spanish(client, built_db):
    body = client.get("/public/location/countries?q=co").get_json()
    nombres = [c["nombre"] for c in body]
    assert body[0] == {"iso2": "CO", "nombre": "Colombia"}  # the ISO2 match first
    assert "Congo" in nombres and "Corea del Sur" in nombres
    assert all(n.lower().startswith("co") for n in nombres[1:])
    # Case and accents are ignored; Spanish names are returned.
    assert {"iso2": "ES", "nombre": "España"} in client.get("/public/location/countries?q=ESPA").get_json()
    assert client.get("/public/location/countries?q=peru").get_json() == [{"iso2": "PE", "nombre": "Perú"}]
    assert client.get("/public/location/countries?q=alem").get_json() == [
        {"iso2": "DE", "nombre": "Alemania"}]


def test_countries_limit(client, built_db):
    assert len(client.get("/public/location/countries").get_json()) == 20
    assert len(client.get("/public/location/countries?limit=3").get_json()) == 3
    assert len(client.get("/public/location/countries?limit=500").get_json()) == 100
    body = assert_error(client.get("/public/location/countries?limit=0"), 422, "validacion")
    assert "limit" in body["details"]
    body = assert_error(client.get("/public/location/countries?limit=x"), 422, "validacion")
    assert "limit" in body["details"]


def test_cities_by_prefix(client, built_db):
    body = client.get("/public/location/countries/co/cities?q=BOGO").get_json()
    assert body[0] == {"id": 3688689, "nombre": "Bogotá", "region": None,
                       "poblacion": body[0]["poblacion"]}
    medellin = client.get("/public/location/countries/CO/cities?q=medellin").get_json()
    assert medellin[0]["nombre"] == "Medellín"
    cucuta = client.get("/public/location/countries/CO/cities?q=cúcu").get_json()
    assert cucuta[0]["nombre"] == "Cúcuta"
    lima = client.get("/public/location/countries/PE/cities?q=li").get_json()
    assert lima[0]["nombre"] == "Lima"
    everything = client.get("/public/location/countries/CO/cities?limit=100").get_json()
    populations = [c["poblacion"] for c in everything]
    assert populations == sorted(populations, reverse=True) and len(everything) == 100
    # A known country whose cities were not included in this build: empty, not an error.
    assert client.get("/public/location/countries/MX/cities").get_json() == []
    # Prefix, not substring.
    assert client.get("/public/location/countries/CO/cities?q=gota").get_json() == []


def test_cities_refusals(client, built_db):
    assert_error(client.get("/public/location/countries/ZZ/cities"), 404, "no_encontrado")
    body = assert_error(client.get("/public/location/countries/COL/cities"), 422, "validacion")
    assert "iso2" in body["details"]
    body = assert_error(client.get("/public/location/countries/CO/cities?q=" + "a" * 101), 422)
    assert "q" in body["details"]


def test_rebuild_is_seen_without_restart(app, client, runner, built_db):
    assert client.get("/public/location/countries/PE/cities?q=lima").get_json()
    result = runner.invoke(args=["location", "build", "--countries", "CO"])
    assert result.exit_code == 0
    assert client.get("/public/location/countries/PE/cities?q=lima").get_json() == []


def test_fallback_when_file_is_missing(client, missing_db):
    countries = client.get("/public/location/countries?q=co").get_json()
    assert countries[0] == {"iso2": "CO", "nombre": "Colombia"}
    bogota = client.get("/public/location/countries/CO/cities?q=bogo").get_json()
    assert bogota == [{"id": 3688689, "nombre": "Bogotá", "region": "Bogotá D.C.", "poblacion": 7674366}]
    cities = client.get("/public/location/countries/CO/cities").get_json()
    assert len(cities) >= 10 and cities[0]["nombre"] == "Bogotá"
    assert client.get("/public/location/countries/CO/cities?q=MONTERIA").get_json()[0]["nombre"] == "Montería"
    # Every country is known; the cities of most need the built catalogue.
    assert client.get("/public/location/countries/DE/cities").get_json() == []
    assert_error(client.get("/public/location/countries/ZZ/cities"), 404, "no_encontrado")


def test_answers_are_cacheable(client, missing_db):
    response = client.get("/public/location/countries?q=pe")
    assert response.headers["Cache-Control"].startswith("public")


def test_normalize():
    from backend.location.services import normalize

    assert normalize("  Bogotá  D.C. ") == "bogota d.c."
    assert normalize("ÑUÑOA") == "nunoa"
