"""The Ollama backend at 4x a server's capacity, side by side in one run. The server is the
shipped FakeOllama (it behaves as Ollama under load: OLLAMA_NUM_PARALLEL=1, OLLAMA_MAX_QUEUE=3,
so 4 requests fit and one more gets 503 "server busy"; 50 ms per answer). 64 agent runs are
started at once (16 per place) through one session:

  no retries      what Shoal did before: no per-host bound, one try
  retries only    no per-host bound (64 in flight), busy calls retried with backoff
  shoal default   at most host_max_parallel=4 in flight per host, and retries

    .venv/bin/python -m bench.ollama_load [--runs 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from shoal.agents import Agent, AgentSpec
from shoal.models.fake_ollama import FakeOllama, FakeOllamaBehaviour
from shoal.session import Session
from shoal.settings import load_settings

BEHAVIOUR = FakeOllamaBehaviour(parallel=1, max_queue=3, seconds=0.05)
MODES = {"no retries": {"host_max_parallel": 1000, "retry_attempts": 1},
         "retries only": {"host_max_parallel": 1000, "retry_attempts": 12},
         "shoal default": {"host_max_parallel": 4, "retry_attempts": 6}}


async def _run(runs: int, folder: Path, settings: dict[str, Any]) -> dict[str, Any]:
    spec: AgentSpec[Any] = AgentSpec(name="reply", model="ollama:qwen2.5-coder:0.5b",
                                     instructions="Reply.", cache=False, retries=0)
    with FakeOllama(BEHAVIOUR) as server:
        config = load_settings(ollama_host=server.url, ollama_models_dir=folder / "none",
                               database_url=f"sqlite:///{folder / 'memory.db'}", **settings)
        started = time.perf_counter()
        async with Session(config) as session:
            agent = Agent(spec, session=session)
            results = await asyncio.gather(*(agent.run(f"message {i}") for i in range(runs)),
                                           return_exceptions=True)
        wall = time.perf_counter() - started
        counts = server.counts
    done = [r for r in results if not isinstance(r, BaseException)]
    waits = sorted(r.usage.queue_seconds for r in done) or [0.0]
    return {"failed": runs - len(done), "attempts": counts.requests / runs,
            "busy": counts.busy, "wait_mean": statistics.mean(waits),
            "wait_max": waits[-1], "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=64)
    args = parser.parse_args()
    print(f"\n{args.runs} runs at once against capacity {BEHAVIOUR.parallel + BEHAVIOUR.max_queue}"
          f" ({BEHAVIOUR.seconds * 1000:.0f} ms per answer)")
    print(f"{'mode':<15}{'failed':>7}{'attempts/run':>13}{'503s':>6}{'wait mean s':>12}"
          f"{'wait max s':>11}{'wall s':>8}")
    for mode, settings in MODES.items():
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(_run(args.runs, Path(tmp), settings))
        print(f"{mode:<15}{r['failed']:>7}{r['attempts']:>13.2f}{r['busy']:>6}"
              f"{r['wait_mean']:>12.2f}{r['wait_max']:>11.2f}{r['wall']:>8.2f}")


if __name__ == "__main__":
    main()
