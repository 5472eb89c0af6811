"""`shoal db grant`: a PostgreSQL role for `shoal ask` that reads exactly the listed tables."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(help="Database helpers for the SQL guard.", no_args_is_help=True)


@app.command("grant")
def grant(
    db: Annotated[str, typer.Option(help="PostgreSQL URL of the tables' owner")],
    role: Annotated[str, typer.Option(help="the role to create or narrow")] = "shoal_reader",
    tables: Annotated[str, typer.Option(help="comma-separated tables it may read")] = "",
) -> None:
    """Create (or narrow) a role that can SELECT exactly TABLES; connect `shoal ask --db` as
    it. Prints the statements run."""
    from shoal.tools.sql_grants import grant_reader

    for statement in grant_reader(db, role, [t.strip() for t in tables.split(",")
                                             if t.strip()]):
        typer.echo(f"{statement};")
