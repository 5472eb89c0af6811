"""Prompts: prompt files, the system message (instructions + the output's shape), few-shot
turns and the rendered input: labelled blocks, or a template file in the format the model was
trained on. (The repair turn after invalid output: shoal.agents.repair.)"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shoal.agents.grounding import json_schema
from shoal.agents.spec import AgentSpec
from shoal.errors import ConfigError
from shoal.models import Message

__all__ = ["build_messages", "describe_schema", "fill_template", "read_prompt", "render_input"]

_FIELD = re.compile(r"\{(\w+)\}")


def read_prompt(name: str) -> str:
    """A prompt file's text: an existing path, else a file in shoal.agents' prompts/."""
    path = Path(name).expanduser()
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    packaged = resources.files("shoal.agents").joinpath("prompts", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8").strip()
    raise ConfigError(f"prompt file {name!r} not found (neither a path nor a packaged prompt)",
                      fix="give a path relative to the working directory or the YAML file")


def _type_of(node: dict[str, Any], defs: dict[str, Any], depth: int) -> str:
    if "$ref" in node:
        target = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        return _type_of(target, defs, depth)
    if "enum" in node:
        return "one of " + ", ".join(json.dumps(v) for v in node["enum"][:12]) + (
            ", …" if len(node["enum"]) > 12 else "")
    if "anyOf" in node:
        return " or ".join(_type_of(n, defs, depth) for n in node["anyOf"])
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(node.get('items', {}), defs, depth)}"
    if kind == "object" and "properties" in node and depth < 3:
        fields = ", ".join(f"{k}: {_type_of(v, defs, depth + 1)}"
                           for k, v in node["properties"].items())
        return "{" + fields + "}"
    fmt = node.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def describe_schema(schema: dict[str, Any]) -> str:
    """A compact, human-readable field list of an object schema (not the whole schema:
    grounded enums may list hundreds of candidates)."""
    defs = schema.get("$defs", {})
    lines = []
    required = set(schema.get("required", []))
    for name, node in schema.get("properties", {}).items():
        note = "" if name in required else " (optional)"
        about = f" — {node['description']}" if node.get("description") else ""
        lines.append(f"- {name}: {_type_of(node, defs, 1)}{note}{about}")
    return "\n".join(lines)


def _output_schema(spec: AgentSpec[Any]) -> dict[str, Any] | None:
    if isinstance(spec.output, type):
        return json_schema(spec.output)
    return spec.output


def _as_text(data: dict[str, Any]) -> str:
    """Structured input as labelled blocks: small models read multi-line values (DDL, OCR
    text) better raw than escaped inside JSON strings. Empty fields are left out."""
    blocks = []
    for name, value in data.items():
        if value is None or value == "":
            continue
        if isinstance(value, str):
            blocks.append(f"{name}:\n{value}" if "\n" in value else f"{name}: {value}")
        else:
            blocks.append(f"{name}: {json.dumps(value, default=str)}")
    return "\n\n".join(blocks)


def _fill_line(line: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _FIELD.sub(value, line)


def fill_template(template: str, data: dict[str, Any]) -> str:
    """`{field}` replaced by the input's field. A line whose fields are all empty is left out,
    so optional fields need no conditionals. Raises ConfigError for a field the input lacks."""
    lines = []
    for line in template.splitlines():
        names = _FIELD.findall(line)
        if missing := [n for n in names if n not in data]:
            raise ConfigError(f"the template names {missing[0]!r}, which the input does not "
                              f"have (fields: {', '.join(data)})",
                              fix="name only fields of the agent's input type in {braces}")
        values = {n: "" if data[n] is None else str(data[n]) for n in names}
        if names and not any(values.values()):
            continue
        lines.append(_fill_line(line, values))
    return "\n".join(lines)


def render_input(spec: AgentSpec[Any], value: str | BaseModel | dict[str, Any],
                 template: str | None = None) -> str:
    """The input as the model sees it: text as is; structured input filled into `template`
    (a template's text) when given, else as labelled blocks."""
    if isinstance(value, str):
        if spec.input is None:
            return value
        value = spec.input.model_validate_json(value)
    if spec.input is not None:
        value = spec.input.model_validate(value)
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    if not isinstance(data, dict):
        return json.dumps(data, default=str)
    return fill_template(template, data) if template is not None else _as_text(data)


def build_messages(spec: AgentSpec[Any], instructions: str, text: str) -> list[Message]:
    """System message, few-shot turns, then the input."""
    system = instructions
    schema = _output_schema(spec)
    if schema is not None:
        system += ("\n\nAnswer with one JSON object with these fields:\n"
                   + describe_schema(schema))
    messages = [Message.system(system.strip())] if system.strip() else []
    for example in spec.examples:
        answer = example.output if isinstance(example.output, str) else json.dumps(
            example.output)
        messages += [Message.user(example.input), Message.assistant(answer)]
    messages.append(Message.user(text))
    return messages
