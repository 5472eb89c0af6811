"""Agreement as confidence: draw several answers from the first model, group the valid ones by
what they mean (`key`: for SQL, the rows a query returns), and accept a clear majority. When
the answers disagree, the next model of the escalation chain answers; its valid answer
decides, and the confidence is the share of all votes its group holds.

The answers differ in one of two ways:
- `views`: the same input shown through several templates (e.g. a schema with and without
  sample values), one greedy answer each, requested concurrently;
- `samples`: one request with `options.n` sampled at `temperature` (the embedded and
  OpenAI-compatible backends decode them in parallel after one prefill).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator, model_validator

from shoal.frozen import Frozen
from shoal.imports import resolve_import

__all__ = ["Ballot", "Tally", "Vote", "VoteKey", "tally"]

VoteKey = Callable[[Any, str], Awaitable[Hashable] | Hashable]
"""Called with (output, input text): what the output means, e.g. a query's result rows.
Answers with equal keys agree. Raises ValueError for an answer that must not be counted."""


class Vote(Frozen):
    """How the first model's answers are drawn and how many must agree."""

    views: tuple[str, ...] = Field(default=(), description="template files (see "
                                   "AgentSpec.template): one greedy answer through each")
    samples: int = Field(default=4, ge=2, le=16, description="without views: answers "
                         "sampled from one request")
    temperature: float = Field(default=0.7, ge=0)
    seed: int = 0  # the samples are reproducible run to run
    agreement: float = Field(default=0.5, gt=0, le=1,
                             description="share of the answers the largest group needs "
                             "(and at least two of them, and more than the next group)")
    key: VoteKey | None = None  # None: the output itself

    @model_validator(mode="after")
    def _one_way(self) -> Vote:
        if self.views and len(self.views) < 2:
            raise ValueError("views need at least two templates to agree")
        if self.views and self.model_fields_set & {"samples", "temperature", "seed"}:
            raise ValueError("give views (one greedy answer each) or samples, not both")
        return self

    @property
    def ballots(self) -> int:
        """The first model's answers."""
        return len(self.views) or self.samples

    @field_validator("key", mode="before")
    @classmethod
    def _import_key(cls, value: Any) -> Any:
        return resolve_import(value) if isinstance(value, str) else value

    async def key_of(self, output: Any, text: str) -> Hashable:
        if self.key is None:
            return _hashable(output)
        found = self.key(output, text)
        return await found if inspect.isawaitable(found) else found


@dataclass(frozen=True)
class Ballot:
    """One answer. An invalid one (`valid` False) joins no group but counts in the total."""

    output: Any
    key: Hashable
    model: str
    weight: int = 1
    valid: bool = True


@dataclass(frozen=True)
class Tally:
    winner: Ballot  # of the winning group: the heaviest ballot (a later model's), else the first
    votes: int
    total: int
    runner_up: int  # votes of the second group

    @property
    def confidence(self) -> float:
        """The winning group's share of every vote cast, invalid answers included."""
        return self.votes / self.total

    def accepted(self, vote: Vote) -> bool:
        """A clear majority of the first model's answers: at least two agree, they hold
        `agreement` of them, and no other group is as large."""
        return (self.votes >= max(2.0, vote.agreement * vote.ballots)
                and self.votes > self.runner_up)


def tally(ballots: list[Ballot]) -> Tally | None:
    """The largest group of valid answers (ties: the group seen first); None without one."""
    groups: dict[Hashable, list[Ballot]] = {}
    for ballot in ballots:
        if ballot.valid:
            groups.setdefault(ballot.key, []).append(ballot)
    if not groups:
        return None
    ranked = sorted(groups.values(), key=lambda g: -sum(b.weight for b in g))
    votes = [sum(b.weight for b in g) for g in ranked]
    winner = max(ranked[0], key=lambda b: b.weight)  # max keeps the first of equals
    return Tally(winner, votes[0], sum(b.weight for b in ballots),
                 votes[1] if len(votes) > 1 else 0)


def _hashable(value: Any) -> Hashable:
    if hasattr(value, "model_dump_json"):
        return str(value.model_dump_json())
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value  # type: ignore[no-any-return]
