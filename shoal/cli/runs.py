"""`shoal runs list|show|stats|resume`: the run ledger, with costs."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shoal.cli.output import table_console
from shoal.cli.session import cli_session, in_session
from shoal.errors import ConfigError
from shoal.settings import load_settings

if TYPE_CHECKING:
    from shoal.memory import RunLedger
    from shoal.memory.tables import CallRow
    from shoal.session import Session

__all__ = ["app"]

app = typer.Typer(help="Recorded graph runs and model calls.", no_args_is_help=True)


def _ledger() -> RunLedger:
    return cli_session().ledger  # reads only: the process ends with the command


@app.command("list")
def list_runs(limit: Annotated[int, typer.Option(help="how many")] = 20) -> None:
    """The latest runs."""
    table = Table("run", "graph", "thread", "status", "started", "seconds")
    for run in _ledger().runs(limit):
        took = f"{run.finished_at - run.started_at:.1f}" if run.finished_at else "-"
        table.add_row(run.id[:12], run.graph, run.thread_id[:12], run.status,
                      datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M:%S"), took)
    table_console().print(table)


def _report(groups: dict[str, list[CallRow]]) -> dict[str, dict[str, Any]]:
    from shoal.memory.costs import load_prices, totals

    prices = load_prices(load_settings().prices_path())
    report = {}
    for name, calls in groups.items():
        t = totals(calls)
        report[name] = {
            "calls": t.calls, "prompt_tokens": t.prompt_tokens,
            "completion_tokens": t.completion_tokens,
            "decode_tokens_per_second": t.decode_tokens_per_second, "seconds": t.seconds,
            "cache_hits": t.cache_hits, "escalations": t.escalations, "errors": t.errors,
            "local_usd": t.local_cost(prices), "cloud_usd": t.cloud_costs(prices)}
    return report


def _print(title: str, report: dict[str, dict[str, Any]], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    usage = Table("", "calls", "tokens in/out", "tok/s", "seconds", "cache hits",
                  "escalations", title=title)
    usage.columns[0].no_wrap = True
    for name, r in report.items():
        rate = r["decode_tokens_per_second"]
        usage.add_row(name, str(r["calls"]), f"{r['prompt_tokens']}/{r['completion_tokens']}",
                      f"{rate:.1f}" if rate else "-", f"{r['seconds']:.1f}",
                      str(r["cache_hits"]), str(r["escalations"]))
    clouds = list(next(iter(report.values()))["cloud_usd"]) if report else []
    costs = Table("", "local CPU $", *[f"{c} $" for c in clouds],
                  title="cost: local, and the same tokens on cloud models")
    costs.columns[0].no_wrap = True
    for name, r in report.items():
        costs.add_row(name, f"{r['local_usd']:.5f}", *[f"{r['cloud_usd'][c]:.5f}"
                                                        for c in clouds])
    out = table_console()
    out.print(usage)
    out.print(costs)


@app.command()
def show(run_id: Annotated[str, typer.Argument(help="run id (or a unique prefix)")],
         as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Per node: tokens, tokens/s, seconds, cache hits, escalations and costs."""
    ledger = _ledger()
    matches = [r for r in ledger.runs(10_000) if r.id.startswith(run_id)]
    if len(matches) != 1:
        raise ConfigError(f"{len(matches)} runs match {run_id!r}", fix="give more of the id")
    run = matches[0]
    by_node: dict[str, list[CallRow]] = {}
    for call in ledger.calls(run.id):
        by_node.setdefault(call.node or "-", []).append(call)
    if not as_json:
        Console().print(f"run {run.id} · graph {run.graph} · thread {run.thread_id} · "
                        f"{run.status}")
    _print("per node", _report(by_node), as_json)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Totals over all recorded calls, per model."""
    by_model: dict[str, list[CallRow]] = {}
    for call in _ledger().calls():
        by_model.setdefault(call.model, []).append(call)
    _print("per model", _report(by_model), as_json)


@app.command()
def resume(
    thread: Annotated[str, typer.Argument(help="thread id")],
    approve: Annotated[bool, typer.Option("--approve", help="approve a pending side effect")]
    = False,
    reject: Annotated[bool, typer.Option("--reject", help="reject a pending side effect")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Continue an interrupted or crashed run from its last checkpoint."""
    from shoal.cli.graph import print_outcome
    from shoal.graphs import GraphRunner, load_definition

    if approve and reject:
        raise ConfigError("--approve and --reject exclude each other", fix="give one")
    run = _ledger().latest_run(thread)
    if run is None:
        raise ConfigError(f"no run recorded for thread {thread!r}", fix="see `shoal runs list`")
    decision = True if approve else (False if reject else None)

    async def go(session: Session) -> Any:
        async with GraphRunner(load_definition(run.graph, session), session) as runner:
            return await runner.resume(thread, decision)

    print_outcome(in_session(go), as_json)
