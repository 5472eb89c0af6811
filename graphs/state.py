"""The shared state of Shoal's graphs, with explicit reducers."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

__all__ = ["FlowState", "merge"]


def merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Reducer: later keys win."""
    return {**left, **right}


class FlowState(TypedDict, total=False):
    input: Any  # the run's input, untouched
    value: Any  # the latest step's output (JSON-able)
    outputs: Annotated[dict[str, Any], merge]  # every step's output, by step name
    items: list[Any]  # what fan_out maps over
    results: Annotated[list[Any], operator.add]  # fan_out's outputs, gathered
    approved: bool | None  # the human decision at an approval interrupt
