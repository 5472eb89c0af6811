"""Turning model text into a validated output, or a list of problems to send back.

Layers: JSON + pydantic (or JSON schema) validation, grounding of marked fields in the input,
then the spec's own validators. Nothing invalid passes as success.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from shoal.agents.grounding import check_grounded, grounded_schema, json_schema
from shoal.agents.spec import AgentSpec
from shoal.problems import validation_problems

__all__ = ["InvalidOutput", "OutputPlan", "output_plan"]


class InvalidOutput(Exception):
    """Model output failed validation; `problems` become the repair message. `partial` is the
    output when it had the right shape but failed grounding or a validator."""

    def __init__(self, problems: list[str], partial: Any = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.partial = partial


@dataclass(frozen=True)
class OutputPlan:
    """How one run's output is constrained (`schema`, for the grammar) and checked (`parse`)."""

    spec: AgentSpec[Any]
    text: str  # the rendered input, for grounding and validators
    schema: dict[str, Any] | None

    async def parse(self, answer: str) -> Any:
        """The validated output; raises InvalidOutput with every problem found."""
        output = self._structural(answer)
        problems = check_grounded(output, self.text) if isinstance(output, BaseModel) else []
        for validator in self.spec.validators:
            try:
                checked = validator(output, self.text)
                if inspect.isawaitable(checked):
                    await checked
            except (ValueError, AssertionError) as exc:
                problems.append(str(exc) or type(exc).__name__)
        if problems:
            raise InvalidOutput(problems, partial=output)
        return output

    def _structural(self, answer: str) -> Any:
        output_type = self.spec.output
        if output_type is None:
            if not answer.strip():
                raise InvalidOutput(["the answer is empty"])
            return answer.strip()
        if isinstance(output_type, type):
            try:
                return output_type.model_validate_json(answer)
            except ValidationError as exc:
                raise InvalidOutput(validation_problems(exc, root="answer")) from exc
        try:
            data = json.loads(answer)
        except json.JSONDecodeError as exc:
            raise InvalidOutput([f"not JSON: {exc.msg} at position {exc.pos}"]) from exc
        errors = sorted(jsonschema.Draft202012Validator(output_type).iter_errors(data),
                        key=lambda e: list(e.path))
        if errors:
            raise InvalidOutput([f"{'.'.join(map(str, e.path)) or 'answer'}: {e.message}"
                                 for e in errors])
        return data


def _grammar_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Tighten the schema the grammar enforces (validation is unchanged): a small model must
    write every field (null where it has none: left optional, it skips fields it could have
    filled) and no other field (left open, it rambles on inventing keys)."""
    for node in [schema, *schema.get("$defs", {}).values()]:
        if isinstance(node, dict) and isinstance(node.get("properties"), dict):
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
    return schema


def output_plan(spec: AgentSpec[Any], text: str) -> OutputPlan:
    output_type = spec.output
    if output_type is None:
        schema = None
    elif isinstance(output_type, type):
        schema = _grammar_schema(
            grounded_schema(output_type, text) or json_schema(output_type))
    else:
        schema = output_type
    return OutputPlan(spec, text, schema)
