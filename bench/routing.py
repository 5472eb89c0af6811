"""Router accuracy on 20 labelled support messages (billing, technical, shipping), per model.

    .venv/bin/python -m bench.routing [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b] [--gate 16]

The gate: the default classifier model (qwen2.5-coder-1.5b) gets at least `--gate` of 20 right;
the command exits 1 when it does not. (The real-model test only checks behaviour: the label is
always one of the set, and three plain messages route where they obviously belong.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bench.routing_texts import LABELLED
from shoal.agents import Agent, AgentSpec
from shoal.agents.library import classifier_spec
from shoal.models.packs import ensure_pack
from shoal.session import Session
from shoal.settings import load_settings

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def router_spec(model: str) -> AgentSpec[object]:
    return classifier_spec(
        "support_router", ["billing", "technical", "shipping"], model=f"pack:{model}",
        descriptions={"billing": "payments, invoices, refunds, prices",
                      "technical": "bugs, errors, login, app or website problems",
                      "shipping": "delivery, parcels, tracking, couriers"})


async def score(model: str, session: Session) -> tuple[int, float]:
    agent = Agent(router_spec(model), session=session)
    correct = 0
    started = time.perf_counter()
    for text, label in LABELLED:
        result = await agent.run(text)
        correct += result.output.label.value == label  # type: ignore[attr-defined]  # enum model
    return correct, (time.perf_counter() - started) / len(LABELLED)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=f"{DEFAULT_MODEL},qwen2.5-coder-0.5b")
    parser.add_argument("--gate", type=int, default=16)
    args = parser.parse_args()
    settings = load_settings()
    results = {}
    async with Session(settings) as session:
        for model in args.models.split(","):
            ensure_pack(model, settings.cache_dir, install=True)
            results[model] = await score(model, session)
    print(f"{len(LABELLED)} support messages x 3 labels, temperature 0")
    print(f"{'model':<22}{'correct':>9}{'s/message':>11}")
    for model, (correct, seconds) in results.items():
        print(f"{model:<22}{correct:>6}/{len(LABELLED)}{seconds:>11.2f}")
    if DEFAULT_MODEL in results:
        passed = results[DEFAULT_MODEL][0] >= args.gate
        print(f"gate: {DEFAULT_MODEL} >= {args.gate}/{len(LABELLED)}: "
              f"{'met' if passed else 'NOT met'}")
        return 0 if passed else 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
