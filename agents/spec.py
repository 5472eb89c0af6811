"""AgentSpec: everything that defines an agent, frozen. Built in Python or loaded from YAML;
both give the same spec. Import paths ("package.module:Name") name output types, tools and
validators in YAML, and a YAML file may instead name a Python factory of the spec
(`factory: shoal.agents.library:extractor_spec`, the other keys its arguments), so the library
agents in configs/agents/ are exactly the ones the pipelines use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shoal.agents.vote import Vote
from shoal.errors import ConfigError
from shoal.frozen import Frozen
from shoal.imports import config_roots, importable_from, resolve_import
from shoal.models import ChatOptions
from shoal.models.registry import SCHEMES
from shoal.problems import validation_problems
from shoal.tools import FunctionTool

__all__ = ["AgentSpec", "Budget", "Example", "Validator", "load_agent_spec"]

OutputT = TypeVar("OutputT")

Validator = Callable[[Any, str], Awaitable[None] | None]
"""Called with (output, input text), sync or async; raises ValueError or AssertionError to ask
for a repair (e.g. "this SQL fails on the database"): the agent's one feedback channel."""


class Example(Frozen):
    """A few-shot example: an input and the output the agent should give for it."""

    input: str
    output: dict[str, Any] | str


class Budget(Frozen):
    """Per-run limits; None means unlimited. Tokens count prompt + completion of every call."""

    max_tokens: int | None = Field(default=None, gt=0)
    max_seconds: float | None = Field(default=None, gt=0)
    max_escalations: int | None = Field(default=None, ge=0)


class AgentSpec(BaseModel, Generic[OutputT]):
    """What an agent is. Constructing one imports named objects but reads no prompt file and
    opens no model: that happens on the first run. `AgentSpec[T]` is the spec of an agent whose
    output is a T (the `output` class; `str` for plain text), so `Agent(spec)` is an Agent[T]."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    description: str = ""
    model: str | None = None  # None: the settings' default_model
    escalate_to: tuple[str, ...] = ()
    instructions: str = ""
    prompt: str | None = None  # a prompt file: a path, or a name in shoal.agents' prompts/
    # a prompt file the structured input is filled into ({field}), instead of labelled blocks
    template: str | None = None
    examples: tuple[Example, ...] = ()
    input: type[BaseModel] | None = None
    output: type[OutputT] | dict[str, Any] | None = None  # None: plain text
    tools: tuple[FunctionTool, ...] = ()
    tool_mode: Literal["auto", "native", "action"] = "auto"
    max_steps: int = Field(default=6, gt=0)
    options: ChatOptions = ChatOptions(temperature=0)
    retries: int = Field(default=2, ge=0)
    # Escalate a valid answer the model was unsure of: the geometric mean of its tokens'
    # probabilities (ChatResponse.token_confidence) below this. Needs a backend reporting
    # logprobs (embedded, OpenAI-compatible, Ollama); the last model's answer always stands.
    min_confidence: float | None = Field(default=None, gt=0, lt=1)
    validators: tuple[Validator, ...] = ()
    budget: Budget = Budget()
    vote: Vote | None = None  # draw several answers and accept agreement (shoal.agents.vote)
    on_overflow: Literal["error", "drop_oldest"] = "error"
    cache: bool = True  # may use the session's call cache, when the session has one

    @field_validator("model", "escalate_to", mode="after")
    @classmethod
    def _model_uris(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        for uri in (value,) if isinstance(value, str) else value or ():
            scheme, sep, rest = uri.partition(":")
            if not sep or scheme not in SCHEMES or not rest:
                raise ValueError(f"{uri!r} is not a model URI ({', '.join(SCHEMES)})")
        return value

    @field_validator("input", "output", mode="before")
    @classmethod
    def _import_types(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = resolve_import(value)
        if isinstance(value, type) and not issubclass(value, BaseModel):
            raise ValueError("must be a pydantic model class (or a JSON schema for output)")
        return value

    @field_validator("tools", mode="before")
    @classmethod
    def _import_tools(cls, value: Any) -> Any:
        items = []
        for item in value or ():
            obj = resolve_import(item) if isinstance(item, str) else item
            items.append(obj if isinstance(obj, FunctionTool) else FunctionTool(obj))
        return tuple(items)

    @field_validator("validators", mode="before")
    @classmethod
    def _import_validators(cls, value: Any) -> Any:
        return tuple(resolve_import(v) if isinstance(v, str) else v for v in value or ())

    @model_validator(mode="after")
    def _one_prompt_source(self) -> AgentSpec[OutputT]:
        if self.instructions and self.prompt:
            raise ValueError("give either instructions (text) or prompt (a file), not both")
        if self.vote is not None and self.tools:
            raise ValueError("vote works on answers, not tool loops: drop vote or tools")
        if (self.template or (self.vote and self.vote.views)) and self.input is None:
            raise ValueError("a template fills the fields of a structured input: set input")
        names = [t.name for t in self.tools]
        if len(set(names)) != len(names):
            raise ValueError(f"tool names must be unique, got {names}")
        return self


def load_agent_spec(path: Path) -> AgentSpec[Any]:
    """An AgentSpec from a YAML file; a relative `prompt` resolves against the file's folder
    when such a file exists there; `factory` names a Python function returning the spec, called
    with the other keys. Import paths resolve from the file's folder and its project folder too
    (no PYTHONPATH needed). Raises ConfigError naming the file and the fields."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read agent spec {path}: {exc}",
                          fix="check the path and the YAML syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of agent fields",
                          fix="see configs/agents/ for examples")
    prompt = data.get("prompt")
    if isinstance(prompt, str) and (path.parent / prompt).is_file():
        data["prompt"] = str((path.parent / prompt).resolve())
    try:
        with importable_from(config_roots(path)):
            if "factory" in data:
                return _from_factory(path, data)
            return AgentSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc, root="spec"))
        raise ConfigError(f"invalid agent spec {path}: {problems}",
                          fix="correct the named fields") from exc


def _from_factory(path: Path, data: dict[str, Any]) -> AgentSpec[Any]:
    name = str(data.pop("factory"))
    try:
        factory = resolve_import(name)
        spec = factory(**data)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid agent spec {path}: factory {name}: {exc}",
                          fix="name a function returning an AgentSpec, and only its arguments"
                          ) from exc
    if not isinstance(spec, AgentSpec):
        raise ConfigError(f"invalid agent spec {path}: {name} returned "
                          f"{type(spec).__name__}, not an AgentSpec",
                          fix="name a function returning an AgentSpec")
    return spec
