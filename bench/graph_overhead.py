"""Per-node overhead of Shoal's graph layer vs a raw LangGraph node doing the same work, and the
cost of writing a call to the SQL ledger, side by side in one run.

    .venv/bin/python -m bench.graph_overhead [--runs 400] [--real]

Same work: build the chat request, call the (fake, instant) model, validate the answer with
pydantic. The raw node does only that; the Shoal node is `pipeline(agent)` with the agent loop
(prompt, plan, validation, budget, attempts). With --real, one short call of the embedded
qwen2.5-coder-0.5b gives the denominator for "share of a real small-model call".
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec, Attempt
from shoal.graphs import FlowDeps, FlowState, Recorder, pipeline
from shoal.memory import Database, RunLedger
from shoal.models import ChatOptions, ChatRequest, FunctionChatModel, Message, Usage, open_model
from shoal.session import Session
from shoal.settings import load_settings

ANSWER = '{"label": "shipping", "confidence": 0.9}'
TEXT = "My parcel has not arrived and the tracking number does not work."


class Label(BaseModel):
    label: str
    confidence: float


def raw_graph(model: FunctionChatModel) -> Any:
    schema = Label.model_json_schema()  # a careful hand-written node computes it once

    async def node(state: FlowState) -> dict[str, Any]:
        request = ChatRequest(messages=(Message.system("Classify."), Message.user(state["input"])),
                              output_schema=schema, options=ChatOptions(temperature=0))
        response = await model.chat(request)
        return {"value": Label.model_validate_json(response.text).model_dump()}

    graph = StateGraph(FlowState)
    graph.add_node("classify", node)
    graph.add_edge(START, "classify")
    graph.add_edge("classify", END)
    return graph.compile()


async def timed(call: Callable[[], Awaitable[Any]], runs: int) -> float:
    for _ in range(20):  # warm up
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def real_call_seconds() -> float:
    model = open_model("pack:qwen2.5-coder-0.5b", load_settings())  # closed below
    request = ChatRequest(messages=(Message.user(TEXT),), options=ChatOptions(max_tokens=16,
                                                                              temperature=0))
    await model.chat(request)  # load
    seconds = statistics.median([(await model.chat(request)).usage.wall_seconds
                                 for _ in range(3)])
    await model.aclose()
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--real", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    model = FunctionChatModel(lambda request: ANSWER, name="fake:bench")
    spec = AgentSpec(name="classify", model="fake:bench", instructions="Classify.", output=Label)
    agent = Agent(spec, session=Session(settings, models={"fake:bench": model}))
    raw = raw_graph(model)
    shoal = pipeline(agent).compile()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        ledger = RunLedger(db)
        plain = FlowDeps()
        recorded = FlowDeps(recorder=Recorder(ledger, "bench"))
        raw_s = await timed(lambda: raw.ainvoke({"input": TEXT}), args.runs)
        shoal_s = await timed(lambda: shoal.ainvoke({"input": TEXT}, context=plain), args.runs)
        ledger_s = await timed(lambda: shoal.ainvoke({"input": TEXT}, context=recorded),
                               args.runs)
        attempt = [Attempt(model="fake:bench", error=None,
                           usage=Usage(prompt_tokens=40, completion_tokens=9))]

        async def write() -> None:
            await ledger.record_attempts(run_id="bench", node="n", agent="a", chain=("fake:bench",),
                                   attempts=attempt)

        write_s = await timed(write, args.runs)
        db.dispose()
    real_s = await real_call_seconds() if args.real else None

    print(f"{args.runs} runs each, median; fake model answers instantly; SQLite ledger (WAL)")
    print(f"{'':<44}{'ms':>9}{'vs raw':>9}")
    print(f"{'raw LangGraph node (request, call, validate)':<44}{raw_s * 1e3:>9.3f}{1:>8.2f}x")
    print(f"{'Shoal pipeline(agent) node':<44}{shoal_s * 1e3:>9.3f}{shoal_s / raw_s:>8.2f}x")
    print(f"{'Shoal node + ledger write':<44}{ledger_s * 1e3:>9.3f}{ledger_s / raw_s:>8.2f}x")
    print(f"{'ledger write per call (alone)':<44}{write_s * 1e3:>9.3f}")
    if real_s is not None:
        overhead = (ledger_s - raw_s) / real_s
        print(f"{'real qwen2.5-coder-0.5b call (16 tokens)':<44}{real_s * 1e3:>9.1f}")
        print(f"Shoal overhead incl. ledger as share of that real call: {overhead:.3%}; "
              f"ledger write alone: {write_s / real_s:.3%}")


if __name__ == "__main__":
    asyncio.run(main())
