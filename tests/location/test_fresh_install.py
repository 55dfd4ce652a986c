"""A fresh install (no catalogue file) knows every country by its Spanish name; the set-up
builds the cities catalogue once, with its progress shown."""
from __future__ import annotations

import pytest

from backend.config import ROOT_DIR
from backend.location import services as location


@pytest.fixture
def missing_db(app, tmp_path, monkeypatch):
    path = tmp_path / "nope.sqlite3"
    monkeypatch.setitem(app.config, "LOCATION_DB_PATH", str(path))
    return path


def test_every_country_answers_in_spanish_without_the_file(client, missing_db):
    page = client.get("/public/location/countries?limit=100").get_json()
    assert len(page) == 100
    every = location.search_countries("", 100)
    assert every == page
    assert len(location.spanish_country_names()) > 240
    for q, expected in [("alem", {"iso2": "DE", "nombre": "Alemania"}),
                        ("japo", {"iso2": "JP", "nombre": "Japón"}),
                        ("corea del s", {"iso2": "KR", "nombre": "Corea del Sur"}),
                        ("fr", {"iso2": "FR", "nombre": "Francia"})]:
        assert expected in client.get(f"/public/location/countries?q={q}").get_json(), q
    # Ordered as with the file: the ISO2 match first, then by name.
    assert client.get("/public/location/countries?q=co").get_json()[0] == {"iso2": "CO",
                                                                           "nombre": "Colombia"}
    assert not missing_db.exists()


def test_build_if_missing_shows_progress_and_runs_once(runner, missing_db):
    result = runner.invoke(args=["location", "build", "--if-missing", "--countries", "CO"])
    assert result.exit_code == 0, result.output
    assert "Construyendo el catálogo" in result.output
    assert "Ciudades: 10%" in result.output and "Ciudades: 100%" in result.output
    assert missing_db.exists()
    before = missing_db.stat().st_mtime_ns

    again = runner.invoke(args=["location", "build", "--if-missing"])
    assert again.exit_code == 0 and "ya existe" in again.output
    assert missing_db.stat().st_mtime_ns == before


@pytest.mark.parametrize("script", ["start.sh", "start.ps1"])
def test_start_scripts_build_the_catalogue_when_missing(script):
    lines = (ROOT_DIR / script).read_text(encoding="utf-8").splitlines()
    build = next(i for i, line in enumerate(lines) if "location build --if-missing" in line)
    serve = next(i for i, line in enumerate(lines) if "flask" in line and " run " in line)
    assert build < serve
