"""Agreement as confidence: draw several answers from the first model, group the valid ones by
what they mean (`key`: for SQL, the rows a query returns), and accept a clear majority. When
the answers disagree, the next model of the escalation chain answers; its valid answer
decides, and the confidence is the share of all votes its group holds.

The answers come from one request with `options.n` (the embedded and OpenAI-compatible
backends decode them in parallel after one prefill), sampled at `temperature`.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from shoal.frozen import Frozen
from shoal.imports import resolve_import

__all__ = ["Ballot", "Tally", "Vote", "VoteKey", "tally"]

VoteKey = Callable[[Any, str], Awaitable[Hashable] | Hashable]
"""Called with (output, input text): what the output means, e.g. a query's result rows.
Answers with equal keys agree. Raises ValueError for an answer that must not be counted."""


class Vote(Frozen):
    """How many answers the first model draws and how many must agree."""

    samples: int = Field(default=4, ge=2, le=16)
    temperature: float = Field(default=0.7, ge=0)
    seed: int = 0  # the samples are reproducible run to run
    agreement: float = Field(default=0.5, gt=0, le=1,
                             description="share of the samples the largest group needs "
                             "(and at least two of them, and more than the next group)")
    key: VoteKey | None = None  # None: the output itself

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
        """A clear majority of the first model's samples: at least two agree, they hold
        `agreement` of the samples, and no other group is as large."""
        return (self.votes >= max(2.0, vote.agreement * vote.samples)
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
