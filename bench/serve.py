"""The HTTP service's throughput and latency, side by side in one run:
  fake model       an agent on the shipped fake:echo model: what `shoal serve` itself costs
                   (HTTP, auth, queue, ledger writes), next to the same agent called in process
  embedded 0.5B    an agent on qwen2.5-coder-0.5b (llama.cpp in process), 16 output tokens,
                   likewise next to the same agent called in process

at 1, 2 and 4 concurrent clients (each sends its requests one after another). The service runs
with its defaults (one request per model at a time, the rest queue), on a loopback port.

    .venv/bin/python -m bench.serve [--requests 40] [--model-requests 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from shoal.agents import Agent, load_agent_spec
from shoal.service import KeyCheck, Service, ServiceConfig
from shoal.service.app import create_app
from shoal.service.background import BackgroundServer
from shoal.session import Session
from shoal.settings import Settings, load_settings

KEY = "bench-key"
AGENTS = {
    "echo": "name: echo\nmodel: fake:echo\ninstructions: Repeat the message.\ncache: false\n",
    "small": "name: small\nmodel: pack:qwen2.5-coder-0.5b\ninstructions: Name the topic of "
             "the message in a few words.\noptions: {temperature: 0, max_tokens: 16}\n"
             "cache: false\n",
}
MESSAGE = "My parcel was due on Monday and the tracking page has not changed since Friday."


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _clients(url: str, agent: str, clients: int, each: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=600,
                                     headers={"Authorization": f"Bearer {KEY}"}) as http:
            for _ in range(each):
                started = time.perf_counter()
                response = await http.post(f"/v1/agents/{agent}/invoke",
                                           json={"input": MESSAGE})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def _in_process(settings: Settings, path: Path, count: int) -> list[float]:
    latencies = []
    async with Session(settings) as session:
        agent = Agent(load_agent_spec(path), session=session)
        await agent.run(MESSAGE)  # untimed: the model loads
        for _ in range(count):
            started = time.perf_counter()
            await agent.run(MESSAGE)
            latencies.append(time.perf_counter() - started)
    return latencies


def _row(label: str, clients: int | str, latencies: list[float], wall: float) -> str:
    p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
    return (f"{label:<16}{clients!s:>8}{len(latencies):>9}{len(latencies) / wall:>10.1f}"
            f"{p50:>10.1f}{p99:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=40, help="per client, fake model")
    parser.add_argument("--model-requests", type=int, default=8, help="per client, 0.5B")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        (project / "configs" / "agents").mkdir(parents=True)
        for name, text in AGENTS.items():
            (project / "configs" / "agents" / f"{name}.yaml").write_text(text)
        settings = load_settings(database_url=f"sqlite:///{Path(tmp) / 'shoal.db'}",
                                 project_dir=project, api_keys=KEY)
        rows = []
        for label, agent, each in (("fake, in process", "echo", args.requests),
                                   ("0.5B, in process", "small", args.model_requests)):
            latencies = asyncio.run(_in_process(
                settings, project / "configs" / "agents" / f"{agent}.yaml", each))
            rows.append(_row(label, 1, latencies, sum(latencies)))
        service = Service(ServiceConfig(db_url=settings.database_url, waiting=16),
                          Session(settings))
        app = create_app(service, KeyCheck.from_settings(settings, host="127.0.0.1"))
        with BackgroundServer(app) as server:
            for label, agent, each in (("fake, HTTP", "echo", args.requests),
                                       ("0.5B, HTTP", "small", args.model_requests)):
                if agent == "small":  # load the model before timing
                    asyncio.run(_clients(server.url, agent, 1, 1))
                for clients in (1, 2, 4):
                    latencies, wall = asyncio.run(_clients(server.url, agent, clients, each))
                    rows.append(_row(label, clients, latencies, wall))
    print(f"\n{'path':<16}{'clients':>8}{'requests':>9}{'req/s':>10}{'p50 ms':>10}"
          f"{'p99 ms':>10}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
