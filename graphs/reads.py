"""What a step reads: the explicit mapping from graph state to a step's input.

    reads=None                                  the previous step's output (the run input first)
    reads="input"                               the run's input, untouched
    reads="classify.label"                      a field of an earlier step's output, by step name
    reads={"message": "input", "desk": "classify.label"}   a dict assembled from such paths

A path starts with `input` or a step name, then dotted fields. Graphs check the names when
they are built (`check_reads`), so a misspelt step is an error naming the step, not a None.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from shoal.errors import ConfigError
from shoal.graphs.state import FlowState

__all__ = ["Reads", "check_reads", "field_of", "read"]

Reads = str | Mapping[str, str] | None


def _paths(reads: Reads) -> list[str]:
    if reads is None:
        return []
    return [reads] if isinstance(reads, str) else list(reads.values())


def check_reads(step: str, reads: Reads, known: Collection[str]) -> None:
    """Raise ConfigError if `reads` names a step outside `known` (besides `input`)."""
    for path in _paths(reads):
        head = path.split(".", 1)[0]
        if head != "input" and head not in known:
            raise ConfigError(
                f"step {step!r} reads {path!r}, but there is no step {head!r} before it",
                fix=f"start the path with input or one of: {', '.join(sorted(known)) or '-'}")


def field_of(value: Any, fields: str) -> Any:
    """The dotted `fields` of `value` (dict keys or attributes); None where one is missing."""
    for part in fields.split(".") if fields else []:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def _resolve(state: FlowState, path: str) -> Any:
    head, _, fields = path.partition(".")
    root = state.get("input") if head == "input" else (state.get("outputs") or {}).get(head)
    return field_of(root, fields)


def read(state: FlowState, reads: Reads) -> Any:
    """The input of a step that `reads` this, from `state`."""
    if reads is None:
        return state.get("value", state.get("input"))
    if isinstance(reads, str):
        return _resolve(state, reads)
    return {key: _resolve(state, path) for key, path in reads.items()}
