"""Turning model text into a validated output, or a list of problems to send back.

Layers: JSON + pydantic (or JSON schema) validation, grounding of marked fields in the input,
then the spec's own validators. Nothing invalid passes as success.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from shoal.agents.grounding import check_grounded, grounded_schema, json_schema
from shoal.agents.spec import AgentSpec

__all__ = ["InvalidOutput", "OutputPlan", "output_plan"]


class InvalidOutput(Exception):
    """Model output failed validation; `problems` become the repair message."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"])) or "answer"
        problems.append(f"{where}: {error['msg']}")
    return problems


@dataclass(frozen=True)
class OutputPlan:
    """How one run's output is constrained (`schema`, for the grammar) and checked (`parse`)."""

    spec: AgentSpec
    text: str  # the rendered input, for grounding and validators
    schema: dict[str, Any] | None

    def parse(self, answer: str) -> Any:
        """The validated output; raises InvalidOutput with every problem found."""
        output = self._structural(answer)
        problems = check_grounded(output, self.text) if isinstance(output, BaseModel) else []
        for validator in self.spec.validators:
            try:
                validator(output, self.text)
            except (ValueError, AssertionError) as exc:
                problems.append(str(exc) or type(exc).__name__)
        if problems:
            raise InvalidOutput(problems)
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
                raise InvalidOutput(_pydantic_problems(exc)) from exc
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


def output_plan(spec: AgentSpec, text: str) -> OutputPlan:
    output_type = spec.output
    if output_type is None:
        schema = None
    elif isinstance(output_type, type):
        schema = _grammar_schema(
            grounded_schema(output_type, text) or json_schema(output_type))
    else:
        schema = output_type
    return OutputPlan(spec, text, schema)
