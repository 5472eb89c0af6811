"""`shoal serve` (HTTP service + dashboard) and `shoal mcp` (Model Context Protocol server):
one process owning one session and its loaded models."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shoal.cli.session import cli_session
from shoal.errors import ConfigError

__all__ = ["mcp", "serve"]

Host = Annotated[str, typer.Option(help="address to listen on")]
Port = Annotated[int, typer.Option(help="port to listen on")]
Db = Annotated[str | None, typer.Option(
    help="the database the pipelines write and questions read (default: the memory "
         "database, database_url)")]
NoAuth = Annotated[bool, typer.Option("--no-auth", help="serve without API keys (only on a "
                                      "loopback address)")]


def _service(db: str | None, host: str, port: int, **limits: Any) -> Any:
    from shoal.service.service import Service, ServiceConfig

    session = cli_session()
    config = ServiceConfig(db_url=db or session.settings.database_url, host=host, port=port,
                           **limits)
    return Service(config, session)


def _needs_server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"the HTTP service needs {exc.name}, which is not installed",
                          fix="pip install 'shoal[server]'") from None


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8321,
    db: Db = None,
    no_auth: NoAuth = False,
    max_body_mb: Annotated[float, typer.Option(help="largest request body, in MiB")] = 20,
    parallel: Annotated[int, typer.Option(help="requests using one model at once")] = 1,
    queue: Annotated[int, typer.Option(help="requests that may wait for a model; one more "
                                       "gets 429 with Retry-After")] = 8,
    hash_key: Annotated[str | None, typer.Option(
        "--hash-key", help="print the sha256 of KEY for api_key_hashes in shoal.toml, and "
        "exit")] = None,
) -> None:
    """Serve agents, graphs, both pipelines and the runs dashboard over HTTP (OpenAPI at
    /docs). Needs an API key (SHOAL_API_KEYS) unless --no-auth on loopback."""
    from shoal.service.auth import KeyCheck
    from shoal.service.auth import hash_key as digest

    if hash_key is not None:
        typer.echo(digest(hash_key))
        return
    _needs_server_extra()
    import uvicorn

    from shoal.service.app import create_app
    from shoal.settings import load_settings

    keys = KeyCheck.from_settings(load_settings(), host=host, no_auth=no_auth)
    service = _service(db, host, port, max_body_bytes=int(max_body_mb * 2**20),
                       running=parallel, waiting=queue)
    typer.echo(f"shoal serve: http://{host}:{port}/ (dashboard), /docs (API)", err=True)
    uvicorn.run(create_app(service, keys), host=host, port=port, log_level="warning")


def mcp(
    transport: Annotated[str, typer.Option(help="stdio, or http (streamable HTTP at /mcp)")]
    = "stdio",
    host: Host = "127.0.0.1",
    port: Port = 8322,
    db: Db = None,
) -> None:
    """Serve every agent and pipeline as an MCP tool (stdio for a local assistant;
    streamable HTTP on loopback)."""
    import anyio

    from shoal.service.auth import is_loopback
    from shoal.service.mcp import mcp_server

    if transport not in ("stdio", "http"):
        raise ConfigError(f"unknown transport {transport!r}", fix="use stdio or http")
    if transport == "http" and not is_loopback(host):
        raise ConfigError(f"MCP over HTTP on {host} would have no authentication",
                          fix="serve it on 127.0.0.1 (put a proxy with auth in front)")
    service = _service(db, host, port)

    async def run_stdio() -> None:
        from mcp.server.stdio import stdio_server

        async with service:
            server = mcp_server(service)
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

    if transport == "stdio":
        anyio.run(run_stdio)
        return
    _needs_server_extra()
    import uvicorn

    app = mcp_server(service).streamable_http_app(host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")
