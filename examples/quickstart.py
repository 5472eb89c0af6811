"""Quick start: a small model on this machine fills a typed, grounded record (README example).

Every Grounded field may only take a value that occurs in the text: the grammar offers the
model the candidate spans, and validation re-checks them. Invalid output is repaired, then
escalated to the bigger model.
"""

from decimal import Decimal

from pydantic import BaseModel

from shoal.agents import Agent, AgentSpec, Grounded


class Receipt(BaseModel):
    vendor: Grounded[str]
    total: Grounded[Decimal]
    currency: str


TEXT = "Blue Bottle Cafe\n2026-11-03 08:14\n2x Latte 9.00\nTax 0.72\nTOTAL EUR 9.72"

spec = AgentSpec(name="receipt", model="pack:qwen2.5-coder-0.5b",
                 escalate_to=("pack:qwen2.5-coder-1.5b",), prompt="extractor.md", output=Receipt)

if __name__ == "__main__":
    result = Agent(spec).run_sync(TEXT)  # an AgentResult[Receipt]; no call cache
    print(result.output.model_dump_json(indent=2))
    u = result.usage
    print(f"{result.model}: {len(result.attempts)} call(s), {u.prompt_tokens}+"
          f"{u.completion_tokens} tokens, {result.seconds:.1f} s, cache hits {u.cache_hits}")
