"""A short capability check of a model, stored for agents to consult later.

It measures what agents need to decide how to drive a model: does output follow a JSON schema,
does native tool calling produce well-formed calls (else agents use a constrained "action"
output), how long is the context, and how fast are prefill and decode.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from shoal.models.base import ChatModel
from shoal.models.types import ChatOptions, ChatRequest, Message, Tool

__all__ = ["ProbeReport", "load_probes", "probe_model", "save_probe"]

_OPTIONS = ChatOptions(temperature=0, seed=7, max_tokens=96)


class _City(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str
    country: str
    population: int


_JSON_CASES = (
    "Lyon is a city in France with about 520000 inhabitants.",
    "Osaka, Japan, is home to roughly 2750000 people.",
    "Around 8800000 people live in New York City in the United States.",
)
_WEATHER = Tool(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)
_SPEED_TEXT = " ".join(
    f"Line {i}: the quick brown fox jumps over the lazy dog near river {i}." for i in range(24)
)


class ProbeReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    backend: str
    json_schema_rate: float  # share of schema-constrained answers that validate
    native_tool_calls: bool  # a tool request came back as a well-formed native call
    context_length: int | None
    trained_context_length: int | None
    prefill_tokens_per_second: float | None
    decode_tokens_per_second: float | None
    probed_at: datetime


async def _json_rate(model: ChatModel) -> float:
    schema = _City.model_json_schema()
    passed = 0
    for text in _JSON_CASES:
        request = ChatRequest(
            messages=(Message.system("Extract the city, country and population as JSON."),
                      Message.user(text)),
            output_schema=schema, options=_OPTIONS,
        )
        try:
            _City.model_validate_json((await model.chat(request)).text)
            passed += 1
        except ValidationError:
            pass
    return passed / len(_JSON_CASES)


async def _native_tools(model: ChatModel) -> bool:
    request = ChatRequest(
        messages=(Message.user("What is the weather in Paris right now? Use the tool."),),
        tools=(_WEATHER,), options=_OPTIONS,
    )
    calls = (await model.chat(request)).tool_calls
    return bool(calls) and calls[0].name == "get_weather" and isinstance(
        calls[0].arguments.get("city"), str)


async def probe_model(model: ChatModel) -> ProbeReport:
    """Run the checks (a few short generations). Raises ModelError if the model fails."""
    info = await model.describe()
    json_rate = await _json_rate(model)
    tools = await _native_tools(model)
    speed = await model.chat(ChatRequest(
        messages=(Message.user(f"{_SPEED_TEXT}\n\nWrite a long story about the fox."),),
        options=ChatOptions(temperature=0, seed=7, max_tokens=64),
    ))
    return ProbeReport(
        model=model.name, backend=info.backend, json_schema_rate=json_rate,
        native_tool_calls=tools, context_length=info.context_length,
        trained_context_length=info.trained_context_length,
        prefill_tokens_per_second=speed.usage.prefill_tokens_per_second,
        decode_tokens_per_second=speed.usage.decode_tokens_per_second,
        probed_at=datetime.now(UTC),
    )


def _store(cache_dir: Path) -> Path:
    return cache_dir / "probes.json"


def save_probe(report: ProbeReport, cache_dir: Path) -> None:
    """Record `report`, replacing an earlier probe of the same model."""
    path = _store(cache_dir)
    reports = json.loads(path.read_text()) if path.is_file() else {}
    reports[report.model] = report.model_dump(mode="json")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(reports, indent=2, sort_keys=True))
    tmp.replace(path)


def load_probes(cache_dir: Path) -> dict[str, ProbeReport]:
    """Every recorded probe, by model URI (none if nothing was probed yet)."""
    path = _store(cache_dir)
    if not path.is_file():
        return {}
    return {uri: ProbeReport.model_validate(entry)
            for uri, entry in json.loads(path.read_text()).items()}
