"""Quick start: a small model on this machine fills a typed record (the README's example)."""

import asyncio

from pydantic import BaseModel

from shoal import ChatRequest, Message, open_model


class Receipt(BaseModel):
    vendor: str
    date: str
    total: float
    currency: str


TEXT = "Blue Bottle Cafe\n2026-11-03 08:14\n2x Latte 9.00\nTax 0.72\nTOTAL EUR 9.72"


async def main() -> None:
    model = open_model("pack:qwen2.5-coder-0.5b")  # embedded llama.cpp, no server needed
    request = ChatRequest(
        messages=(Message.system("Extract the receipt fields."), Message.user(TEXT)),
        output_schema=Receipt.model_json_schema(),  # grammar-enforced JSON
    )
    response = await model.chat(request)
    receipt = Receipt.model_validate_json(response.text)
    print(receipt.model_dump_json(indent=2))
    u = response.usage
    print(f"{u.prompt_tokens}+{u.completion_tokens} tokens, {u.wall_seconds:.1f} s "
          f"(load {u.load_seconds:.1f} s, decode {u.decode_tokens_per_second or 0:.0f} tok/s)")


if __name__ == "__main__":
    asyncio.run(main())
