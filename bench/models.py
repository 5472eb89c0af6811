"""Embedded backend vs raw xllamacpp, side by side in one run, same model and prompts.

    .venv/bin/python -m bench.models [--rounds 6] [--max-tokens 96]

Prints decode and prefill tokens/s (llama.cpp's own timings) and wall seconds per call for
both, their ratio (goal >= 0.9x), and Shoal's per-call overhead: wall time outside llama.cpp,
and the pure request/response conversion cost measured on a fake model.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xllamacpp

from shoal.models import ChatOptions, ChatRequest, FunctionChatModel, Message, open_model
from shoal.models.llamacpp import EmbeddedChatModel
from shoal.models.packs import ensure_pack
from shoal.settings import load_settings

PACK = "qwen2.5-coder-0.5b"
DOCUMENT = " ".join(
    f"Row {i}: order {1000 + i} shipped to warehouse {i % 7} with {i * 3} units." for i in range(30)
)


@dataclass
class Sample:
    prompt_tokens: int
    completion_tokens: int
    prefill_seconds: float
    decode_seconds: float
    wall_seconds: float


def _prompt(i: int) -> str:
    # A distinct first line per round defeats llama.cpp's prompt cache, so prefill is real.
    return f"Round {i}. Summarise these rows in detail.\n{DOCUMENT}"


def _raw_server(path: Path, n_ctx: int, n_threads: int) -> Any:
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.use_jinja = True
    params.verbosity = -1
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    return xllamacpp.Server(params)


def raw_call(server: Any, i: int, max_tokens: int) -> Sample:
    body = {"messages": [{"role": "user", "content": _prompt(i)}], "max_tokens": max_tokens,
            "temperature": 0, "seed": 1}
    started = time.perf_counter()
    reply = server.handle_chat_completions(body)
    wall = time.perf_counter() - started
    t, u = reply["timings"], reply["usage"]
    return Sample(u["prompt_tokens"], u["completion_tokens"], t["prompt_ms"] / 1000,
                  t["predicted_ms"] / 1000, wall)


async def shoal_call(model: EmbeddedChatModel, i: int, max_tokens: int) -> Sample:
    request = ChatRequest(messages=(Message.user(_prompt(i)),),
                          options=ChatOptions(max_tokens=max_tokens, temperature=0, seed=1))
    u = (await model.chat(request)).usage
    return Sample(u.prompt_tokens, u.completion_tokens, u.prefill_seconds, u.decode_seconds,
                  u.wall_seconds)


async def conversion_overhead_us(calls: int = 2000) -> float:
    """Median microseconds for one chat() through Shoal's types on a fake model."""
    model = FunctionChatModel(lambda request: '{"answer": 42}')
    request = ChatRequest(messages=(Message.system("s"), Message.user(_prompt(0))),
                          output_schema={"type": "object"}, options=ChatOptions(max_tokens=8))
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await model.chat(request)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def summarize(samples: list[Sample]) -> dict[str, float]:
    prompt = sum(s.prompt_tokens for s in samples)
    completion = sum(s.completion_tokens for s in samples)
    return {
        "decode": completion / sum(s.decode_seconds for s in samples),
        "prefill": prompt / sum(s.prefill_seconds for s in samples),
        "wall": statistics.median(s.wall_seconds for s in samples),
        "outside": statistics.median(
            s.wall_seconds - s.prefill_seconds - s.decode_seconds for s in samples),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    settings = load_settings()
    path = ensure_pack(PACK, settings.cache_dir)
    model = open_model(f"pack:{PACK}", settings)
    assert isinstance(model, EmbeddedChatModel)
    async with model.loaded():  # load before timing
        pass
    raw = _raw_server(path, settings.n_ctx, settings.n_threads)
    raw_call(raw, -1, 4)  # warm both the same way
    await shoal_call(model, -1, 4)

    raw_samples, shoal_samples = [], []
    for i in range(args.rounds):  # interleaved, alternating who goes first
        if i % 2:
            shoal_samples.append(await shoal_call(model, i, args.max_tokens))
            raw_samples.append(raw_call(raw, i, args.max_tokens))
        else:
            raw_samples.append(raw_call(raw, i, args.max_tokens))
            shoal_samples.append(await shoal_call(model, i, args.max_tokens))
    r, s = summarize(raw_samples), summarize(shoal_samples)
    fake_us = await conversion_overhead_us()

    print(f"model pack:{PACK}, n_threads={settings.n_threads}, n_ctx={settings.n_ctx}, "
          f"{args.rounds} rounds x {args.max_tokens} max tokens, "
          f"prompt ~{raw_samples[0].prompt_tokens} tokens")
    print(f"{'metric':<34}{'raw xllamacpp':>15}{'shoal':>12}{'shoal/raw':>11}")
    rows = [("decode tokens/s", "decode"), ("prefill tokens/s", "prefill"),
            ("wall seconds/call (median)", "wall")]
    for label, key in rows:
        print(f"{label:<34}{r[key]:>15.2f}{s[key]:>12.2f}{s[key] / r[key]:>10.2f}x")
    print(f"{'ms/call outside llama.cpp (median)':<34}{r['outside'] * 1e3:>15.2f}"
          f"{s['outside'] * 1e3:>12.2f}{'':>11}")
    print(f"{'Shoal types on a fake model, us/call':<34}{'':>15}{fake_us:>12.1f}")


if __name__ == "__main__":
    asyncio.run(main())
