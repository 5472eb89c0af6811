"""`shoal info`: the settings in force, where each came from, and where Shoal keeps things."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from shoal.cli.output import table_console
from shoal.memory import DatabaseURL
from shoal.settings import find_config_file, load_settings, sources

__all__ = ["info"]


def _locations() -> dict[str, str]:
    from shoal.graphs.runner import checkpoint_file

    settings = load_settings()
    address = DatabaseURL.parse(settings.database_url)
    checkpoints = checkpoint_file(address)
    config = find_config_file()
    return {
        "config file": str(config) if config else "(none: no shoal.toml here or above)",
        "ledger (runs, calls)": f"tables runs, calls in {address.redacted}",
        "call cache": f"table call_cache in {address.redacted} (CLI runs; off in library code)",
        "checkpoints": str(checkpoints) if checkpoints else f"tables in {address.redacted}",
        "model packs": str(settings.cache_dir / "packs"),
        "probe reports": str(settings.cache_dir / "probes.json"),
        "agents": ", ".join(str(d) for d in settings.search_dirs("agents")),
        "graphs": ", ".join(str(d) for d in settings.search_dirs("graphs")),
        "prices": str(settings.prices_path()),
    }


def info(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Print the settings in force, their sources and variables, and storage locations."""
    settings = load_settings()
    origins = sources(settings)
    rows: list[dict[str, Any]] = []
    for name, (origin, env) in origins.items():
        value = getattr(settings, name)
        shown = "(set)" if name.endswith("api_key") and value is not None else str(value)
        rows.append({"setting": name, "value": shown, "source": origin, "environment": env})
    locations = _locations()
    if as_json:
        json.dump({"settings": rows, "locations": locations}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    out = table_console()
    table = Table("setting", "value", "source", "environment variable")
    for row in rows:
        table.add_row(row["setting"], row["value"], row["source"], row["environment"])
    out.print(table)
    where = Table("what", "where")
    for what, place in locations.items():
        where.add_row(what, place)
    out.print(where)
