"""Agent: runs one AgentSpec. Model mistakes (invalid output) become repair messages, then
escalation to the next model, then a typed error carrying every attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from shoal.agents.cache import CallCache
from shoal.agents.context import fit_to_context
from shoal.agents.prompting import build_messages, read_prompt, render_input, repair_message
from shoal.agents.result import AgentResult, RunLedger
from shoal.agents.spec import AgentSpec
from shoal.agents.tool_loop import StepsExhausted, run_tool_loop, tool_mode
from shoal.agents.validation import InvalidOutput, OutputPlan, output_plan
from shoal.errors import ModelError, OutputValidationError
from shoal.memory import open_database
from shoal.models import ChatModel, ChatRequest, ChatResponse, Message, Usage, open_model
from shoal.settings import Settings, load_settings

__all__ = ["Agent"]

T = TypeVar("T")


class Agent(Generic[T]):
    """A plain object around a spec: no I/O until `run`. Models are opened on first use
    (embedded models are shared process-wide); `models` overrides URIs, e.g. with fakes."""

    def __init__(
        self,
        spec: AgentSpec,
        *,
        settings: Settings | None = None,
        models: Mapping[str, ChatModel] | None = None,
        cache: CallCache | None = None,
    ) -> None:
        self.spec = spec
        self._settings = settings
        self._models: dict[str, ChatModel] = dict(models or {})
        self._cache = cache
        self._instructions: str | None = None
        self._digests: dict[str, str] = {}

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def cache(self) -> CallCache | None:
        if self._cache is None and self.spec.cache:
            self._cache = CallCache(open_database(self.settings.database_url))
        return self._cache if self.spec.cache else None

    def model(self, uri: str) -> ChatModel:
        if uri not in self._models:
            self._models[uri] = open_model(uri, self.settings)
        return self._models[uri]

    def instructions(self) -> str:
        if self._instructions is None:
            prompt = self.spec.prompt
            self._instructions = read_prompt(prompt) if prompt else self.spec.instructions
        return self._instructions

    async def call(self, uri: str, request: ChatRequest) -> ChatResponse:
        """One model call: fit the context, then the exact cache, then the model."""
        model = self.model(uri)
        num_ctx = request.options.num_ctx or self.settings.n_ctx
        request = request.model_copy(update={"options": request.options.model_copy(
            update={"num_ctx": num_ctx})})  # pinned: every backend gets the same window
        request = await fit_to_context(model, request, num_ctx=num_ctx,
                                       on_overflow=self.spec.on_overflow)
        cache = self.cache
        if cache is None:
            return await model.chat(request)
        if uri not in self._digests:
            info = await model.describe()
            self._digests[uri] = info.digest or model.name
        key = CallCache.key(self._digests[uri], request)
        if (hit := await cache.get(key)) is not None:
            return hit
        response = await model.chat(request)
        await cache.put(key, response)
        return response

    def _chain(self) -> tuple[str, ...]:
        chain = (self.spec.model, *self.spec.escalate_to)
        limit = self.spec.budget.max_escalations
        return chain if limit is None else chain[: limit + 1]

    async def run(self, value: str | BaseModel | dict[str, Any]) -> AgentResult[T]:
        """Run on `value` (text, or structured input). Raises OutputValidationError when no
        model in the chain gives valid output, BudgetExceeded at a budget limit."""
        ledger = RunLedger(self.spec)
        text = render_input(self.spec, value)
        plan = output_plan(self.spec, text)
        messages = build_messages(self.spec, self.instructions(), text)
        chain = self._chain()
        for uri in chain:
            try:
                if self.spec.tools:
                    mode = tool_mode(self.spec, uri, self.settings.cache_dir)
                    output = await run_tool_loop(self, uri, mode, plan, messages, ledger)
                else:
                    output = await self._structured(uri, plan, messages, ledger)
            except ModelError as exc:  # this model cannot serve: try the next one
                ledger.record(uri, Usage(), "", f"{type(exc).__name__}: {exc.message}")
                continue
            except (InvalidOutput, StepsExhausted):
                continue
            return ledger.result(output, uri)
        if len(chain) < 1 + len(self.spec.escalate_to):
            ledger.exceeded(f"max_escalations={self.spec.budget.max_escalations} reached")
        last = next((a.error for a in reversed(ledger.attempts) if a.error), "unknown")
        raise OutputValidationError(
            f"agent {self.spec.name}: no valid output from {', '.join(chain)} in "
            f"{len(ledger.attempts)} attempt(s); last problem: {last}",
            agent=self.spec.name, attempts=ledger.attempts,
            fix="add retries or a bigger model to escalate_to, or simplify the output type",
        )

    async def _structured(self, uri: str, plan: OutputPlan, messages: list[Message],
                          ledger: RunLedger) -> Any:
        conversation = list(messages)
        problems: list[str] = []
        for _ in range(self.spec.retries + 1):
            ledger.check_budget()
            request = ChatRequest(messages=tuple(conversation), output_schema=plan.schema,
                                  options=self.spec.options)
            response = await self.call(uri, request)
            try:
                output = plan.parse(response.text)
            except InvalidOutput as exc:
                problems = exc.problems
                ledger.record(uri, response.usage, response.text, "; ".join(problems))
                conversation += [Message.assistant(response.text),
                                 Message.user(repair_message(problems))]
                continue
            ledger.record(uri, response.usage, response.text)
            return output
        raise InvalidOutput(problems)

    def run_sync(self, value: str | BaseModel | dict[str, Any]) -> AgentResult[T]:
        """`run` for synchronous code (not from inside a running event loop)."""
        return asyncio.run(self.run(value))
