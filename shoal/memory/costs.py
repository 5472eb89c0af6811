"""Cost estimates from a price table (configs/prices.yaml): local CPU seconds, and what the
same tokens would cost on named cloud models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from shoal.errors import ConfigError
from shoal.memory.tables import CallRow

__all__ = ["CallTotals", "PriceTable", "load_prices", "totals"]


class _CloudPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: float
    output: float


class _Local(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cpu_second_usd: float


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    local: _Local
    cloud: dict[str, _CloudPrice]


def load_prices(path: Path) -> PriceTable:
    try:
        return PriceTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"cannot use price table {path}: {exc}",
                          fix="see configs/prices.yaml for the format") from exc


@dataclass(frozen=True)
class CallTotals:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    decode_seconds: float
    cache_hits: int
    escalations: int
    errors: int

    @property
    def decode_tokens_per_second(self) -> float | None:
        return self.completion_tokens / self.decode_seconds if self.decode_seconds else None

    def local_cost(self, prices: PriceTable) -> float:
        return self.seconds * prices.local.cpu_second_usd

    def cloud_costs(self, prices: PriceTable) -> dict[str, float]:
        return {name: (self.prompt_tokens * p.input + self.completion_tokens * p.output) / 1e6
                for name, p in prices.cloud.items()}


def totals(calls: list[CallRow]) -> CallTotals:
    return CallTotals(
        calls=len(calls),
        prompt_tokens=sum(c.prompt_tokens for c in calls),
        completion_tokens=sum(c.completion_tokens for c in calls),
        seconds=sum(c.wall_seconds for c in calls),
        decode_seconds=sum(c.decode_seconds for c in calls),
        cache_hits=sum(c.cache_hit for c in calls),
        escalations=sum(c.escalation > 0 for c in calls),
        errors=sum(c.error is not None for c in calls),
    )
