"""Agent: runs one AgentSpec. Model mistakes (invalid output) become repair messages, then
escalation to the next model of the spec's chain (the one escalation mechanism), then a typed
error carrying every attempt and the best partial output.

A model that cannot answer (unreachable, busy, refused key, timeout, malformed reply) hands
over to the next model too; if the last one cannot answer either, its ModelError is raised
with its own class and fix. A context overflow is raised at once: every model of the chain
gets the same pinned window, so the next one would overflow as well."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from shoal.agents.context import fit_to_context
from shoal.agents.prompting import build_messages, read_prompt, render_input
from shoal.agents.repair import judge
from shoal.agents.result import AgentResult, AttemptLog, OnToken, ToolMode
from shoal.agents.spec import AgentSpec
from shoal.agents.tool_loop import StepsExhausted, run_tool_loop, tool_mode
from shoal.agents.validation import InvalidOutput, OutputPlan, output_plan
from shoal.agents.vote import Ballot, Tally, tally
from shoal.errors import (
    ContextLengthError,
    ModelError,
    ModelResponseError,
    OutputValidationError,
)
from shoal.memory import CallCache
from shoal.models import ChatModel, ChatRequest, ChatResponse, Message, Usage, stream_chat
from shoal.session import Session

__all__ = ["Agent"]

T = TypeVar("T")


class Agent(Generic[T]):
    """A plain object around a spec: no I/O until `run`. Models, the call cache and probe
    reports come from `session`. Without one, the agent opens a private session on first use
    (no call cache) and closes it in `aclose` (`run_sync` closes it after each run)."""

    def __init__(self, spec: AgentSpec[T], *, session: Session | None = None) -> None:
        self.spec = spec
        self._session = session
        self._owns_session = session is None
        self._instructions: str | None = None
        self._templates: dict[str, str] = {}
        self._digests: dict[str, str] = {}

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session()
        return self._session

    def model(self, uri: str) -> ChatModel:
        return self.session.model(uri)

    @property
    def cache(self) -> CallCache | None:
        return self.session.cache if self.spec.cache else None

    def instructions(self) -> str:
        if self._instructions is None:
            prompt = self.spec.prompt
            self._instructions = read_prompt(prompt) if prompt else self.spec.instructions
        return self._instructions

    def template(self, name: str) -> str:
        """A template file's text (read once)."""
        if name not in self._templates:
            self._templates[name] = read_prompt(name)
        return self._templates[name]

    def messages(self, value: str | BaseModel | dict[str, Any],
                 template: str | None) -> tuple[str, list[Message]]:
        """The rendered input and the messages that ask for it (through `template`, a file)."""
        text = render_input(self.spec, value, self.template(template) if template else None)
        return text, build_messages(self.spec, self.instructions(), text)

    async def call(self, uri: str, request: ChatRequest, on_token: OnToken | None = None
                   ) -> ChatResponse:
        """One model call: fit the context, then the exact cache (if any), then the model
        (streamed into `on_token` as it generates, when given: one answer only)."""
        model = self.model(uri)
        num_ctx = request.options.num_ctx or self.session.settings.n_ctx
        request = request.model_copy(update={"options": request.options.model_copy(
            update={"num_ctx": num_ctx})})  # pinned: every backend gets the same window
        request = await fit_to_context(model, request, num_ctx=num_ctx,
                                       on_overflow=self.spec.on_overflow)
        cache = self.cache
        if on_token is not None and request.options.n == 1:
            return await self._streamed(model, request, on_token)
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

    @staticmethod
    async def _streamed(model: ChatModel, request: ChatRequest, on_token: OnToken
                        ) -> ChatResponse:
        response = None
        async for chunk in stream_chat(model, request):
            if chunk.text:
                await on_token(chunk.text)
            response = chunk.response or response
        if response is None:
            raise ModelResponseError(f"{model.name} ended its stream without a response",
                                     model=model.name, fix="retry; check the server's log")
        return response

    def chain(self) -> tuple[str, ...]:
        """The models tried in order: the spec's model (else the settings' default_model),
        then escalate_to, within the budget."""
        chain = (self.spec.model or self.session.settings.default_model, *self.spec.escalate_to)
        limit = self.spec.budget.max_escalations
        return chain if limit is None else chain[: limit + 1]

    async def run(self, value: str | BaseModel | dict[str, Any], *,
                  on_token: OnToken | None = None) -> AgentResult[T]:
        """Run on `value` (text, or structured input). Raises OutputValidationError when no
        model in the chain gives valid output, BudgetExceeded at a budget limit. `on_token`
        gets the text of each model call as it is generated (repairs and escalations too;
        the answers of a vote are not streamed)."""
        log = AttemptLog(self.spec, on_token=on_token)
        text, messages = self.messages(value, self.spec.template)
        plan = output_plan(self.spec, text)
        views = [self.messages(value, v)[1] for v in self.spec.vote.views] if self.spec.vote else []
        chain = self.chain()
        unanswered: ModelError | None = None  # why the last model tried gave no answer
        ballots: list[Ballot] = []
        for index, uri in enumerate(chain):
            mode: ToolMode | None = None
            try:
                if self.spec.tools:
                    mode = tool_mode(self.spec, self.session.probe(uri))
                    output = await run_tool_loop(self, uri, mode, plan, messages, log)
                elif self.spec.vote is not None:
                    decided = await self._vote(index, uri, plan, messages, views, log,
                                               ballots)
                    if decided is None:
                        continue
                    return log.result(decided.winner.output, decided.winner.model, None,
                                      decided.confidence)
                else:
                    output, confidence = await self._answer(uri, plan, messages, log,
                                                            last=index == len(chain) - 1)
                    return log.result(output, uri, None, confidence)
            except ModelError as exc:  # this model cannot serve: try the next one
                log.record(uri, Usage(), "", f"{type(exc).__name__}: {exc.message}")
                if isinstance(exc, ContextLengthError):
                    exc.in_agent(self.spec.name, tuple(log.attempts))
                    raise
                unanswered = exc
                continue
            except (InvalidOutput, StepsExhausted):
                unanswered = None
                continue
            return log.result(output, uri, mode)
        if (best := tally(ballots)) is not None:  # no model was sure: the best group seen
            return log.result(best.winner.output, best.winner.model, None, best.confidence)
        if unanswered is not None:
            raise unanswered.in_agent(self.spec.name, tuple(log.attempts))
        if len(chain) < 1 + len(self.spec.escalate_to):
            log.exceeded(f"max_escalations={self.spec.budget.max_escalations} reached")
        last = next((a.error for a in reversed(log.attempts) if a.error), "unknown")
        raise OutputValidationError(
            f"agent {self.spec.name}: no valid output from {', '.join(chain)} in "
            f"{len(log.attempts)} attempt(s); last problem: {last}",
            agent=self.spec.name, attempts=tuple(log.attempts), partial=log.partial,
            fix="add retries or a bigger model to escalate_to, or simplify the output type",
        )

    async def _structured(self, uri: str, plan: OutputPlan, messages: list[Message],
                          log: AttemptLog) -> Any:
        return (await self._answer(uri, plan, messages, log, last=True))[0]

    async def _answer(self, uri: str, plan: OutputPlan, messages: list[Message],
                      log: AttemptLog, *, last: bool) -> tuple[Any, float | None]:
        """A valid answer of `uri` (with repairs) and its token confidence. With
        spec.min_confidence, an unsure answer of a model that is not `last` is kept as the
        partial output and escalated (InvalidOutput) without a repair."""
        threshold = self.spec.min_confidence
        options = self.spec.options.model_copy(update={"logprobs": True}) \
            if threshold is not None else self.spec.options
        conversation = list(messages)
        for _ in range(self.spec.retries + 1):
            log.check_budget()
            request = ChatRequest(messages=tuple(conversation), output_schema=plan.schema,
                                  options=options)
            response = await self.call(uri, request, log.on_token)
            verdict = await judge(plan, response.text, response, uri, log, conversation)
            if not verdict.accepted:
                continue
            confidence = response.token_confidence
            if threshold is not None and not last and confidence is not None \
                    and confidence < threshold:
                log.partial = verdict.output
                raise InvalidOutput([f"token confidence {confidence:.2f} below "
                                     f"{threshold}: escalated"])
            return verdict.output, confidence
        raise InvalidOutput([log.attempts[-1].error or "invalid output"])

    async def _vote(self, index: int, uri: str, plan: OutputPlan, messages: list[Message],
                    views: list[list[Message]], log: AttemptLog,
                    ballots: list[Ballot]) -> Tally | None:
        """The first model answers once through each of `views` (concurrently), or draws
        `vote.samples` answers in one request: a clear majority decides (None: no clear
        majority). A later model answers once (with repairs); its valid answer decides,
        weighing as much as all the first model's answers."""
        vote = self.spec.vote
        assert vote is not None
        if index > 0:
            output = await self._structured(uri, plan, messages, log)
            try:
                key = await vote.key_of(output, plan.text)
            except ValueError as exc:
                raise InvalidOutput([str(exc)]) from exc
            ballots.append(Ballot(output, key, uri, weight=vote.ballots))
            return tally(ballots)  # its group wins, and it is that group's heaviest ballot
        log.check_budget()
        if views:
            responses = await asyncio.gather(*(self.call(uri, ChatRequest(
                messages=tuple(m), output_schema=plan.schema, options=self.spec.options))
                for m in views))
            answers = [(r.text, r.usage) for r in responses]
        else:
            options = self.spec.options.model_copy(update={
                "n": vote.samples, "temperature": vote.temperature, "seed": vote.seed})
            response = await self.call(uri, ChatRequest(
                messages=tuple(messages), output_schema=plan.schema, options=options))
            answers = [(text, response.usage if number == 0 else Usage(calls=0))
                       for number, text in enumerate(response.texts)]
        for answer, usage in answers:
            try:
                output = await plan.parse(answer)
                key = await vote.key_of(output, plan.text)
            except (InvalidOutput, ValueError) as exc:  # ValueError: the key refused it
                log.record(uri, usage, answer, str(exc))
                if isinstance(exc, InvalidOutput) and exc.partial is not None:
                    log.partial = exc.partial
                ballots.append(Ballot(answer, None, uri, valid=False))
                continue
            log.record(uri, usage, answer)
            ballots.append(Ballot(output, key, uri))
        decided = tally(ballots)
        return decided if decided is not None and decided.accepted(vote) else None

    async def aclose(self) -> None:
        """Close the private session, if this agent opened one (a given session is left to
        its owner)."""
        if self._owns_session and self._session is not None:
            await self._session.aclose()
            self._session = None

    async def __aenter__(self) -> Agent[T]:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.aclose()

    def run_sync(self, value: str | BaseModel | dict[str, Any]) -> AgentResult[T]:
        """`run` for synchronous code (not from inside a running event loop)."""
        async def once() -> AgentResult[T]:
            try:
                return await self.run(value)
            finally:
                await self.aclose()  # the event loop ends here: so do its clients

        return asyncio.run(once())
