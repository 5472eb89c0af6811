"""Typed Python functions as tools: the JSON schema comes from the signature and docstring,
and arguments from a model are validated by pydantic before the function runs."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from shoal.models import Tool
from shoal.problems import validation_problems

__all__ = ["FunctionTool", "ToolArgumentsError", "tool"]


class ToolArgumentsError(ValueError):
    """Arguments a model proposed do not fit the tool's signature (fed back, never raised
    out of an agent run)."""


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """(summary, {param: description}) from a Google-style docstring."""
    summary_lines: list[str] = []
    params: dict[str, str] = {}
    section = "summary"
    for line in inspect.cleandoc(doc).splitlines():
        stripped = line.strip()
        if re.fullmatch(r"(Args|Arguments|Parameters):", stripped):
            section = "args"
        elif re.fullmatch(r"[A-Z][a-z]+:", stripped):
            section = "other"
        elif section == "summary":
            summary_lines.append(stripped)
        elif section == "args" and (m := re.match(r"(\w+)(?:\s*\(.*?\))?:\s*(.*)", stripped)):
            params[m.group(1)] = m.group(2)
    return " ".join(summary_lines).strip(), params


class FunctionTool:
    """A function (sync or async) an agent can call by name with JSON arguments."""

    def __init__(self, function: Callable[..., Any], *, name: str | None = None) -> None:
        self.function = function
        self.name = name or function.__name__
        summary, described = _docstring_parts(function.__doc__ or "")
        self.description = summary
        hints = get_type_hints(function)
        fields: dict[str, Any] = {}
        for param in inspect.signature(function).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {self.name}: *args/**kwargs cannot be described")
            if param.name not in hints:
                raise TypeError(f"tool {self.name}: parameter {param.name!r} needs a type hint")
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (hints[param.name],
                                  Field(default, description=described.get(param.name)))
        self.arguments_model: type[BaseModel] = create_model(
            f"{self.name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)

    @property
    def spec(self) -> Tool:
        """The model-facing description: name, summary, JSON schema of the arguments."""
        schema = self.arguments_model.model_json_schema()
        schema.pop("title", None)
        return Tool(name=self.name, description=self.description, parameters=schema)

    async def call(self, arguments: dict[str, Any]) -> Any:
        """Validate `arguments` and run the function. Raises ToolArgumentsError for bad
        arguments; whatever the function raises propagates."""
        try:
            parsed = self.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(validation_problems(exc, root="arguments"))
            raise ToolArgumentsError(f"bad arguments for {self.name}: {problems}") from exc
        result = self.function(**{k: getattr(parsed, k) for k in type(parsed).model_fields})
        return await result if inspect.isawaitable(result) else result

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FunctionTool) and other.function is self.function
                and other.name == self.name)

    def __hash__(self) -> int:
        return hash((self.function, self.name))

    def __repr__(self) -> str:
        return f"FunctionTool({self.name})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


def tool(function: Callable[..., Any]) -> FunctionTool:
    """Decorator: turn a typed, documented function into a FunctionTool."""
    return FunctionTool(function)
