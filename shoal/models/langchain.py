"""A LangChain chat model (any langchain-core BaseChatModel: ChatOllama from langchain-ollama,
ChatOpenAI, ...) as a Shoal backend behind the ChatModel seam. The one module importing
langchain-core on the model side (the `langchain` extra).

    from langchain_ollama import ChatOllama
    model = LangChainChatModel(ChatOllama(model="qwen2.5-coder:0.5b"), name="langchain:qwen")
    async with Session(models={"langchain:qwen": model}) as session: ...
    # agents name it: model: langchain:qwen

Sampling settings (temperature, max_tokens) are the LangChain model's own, set when it is
built; `stop` and tools are passed per call. A JSON-schema output is not grammar-enforced
here: the agent's validation and repair step checks the answer as for any backend.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from shoal.errors import ModelResponseError, ModelUnavailable
from shoal.models.types import ChatRequest, ChatResponse, Message, ModelInfo, ToolCall, Usage

__all__ = ["LangChainChatModel"]


def _message(message: Message) -> BaseMessage:
    if message.role == "system":
        return SystemMessage(message.content)
    if message.role == "user":
        return HumanMessage(message.content)
    if message.role == "tool":
        return ToolMessage(message.content, tool_call_id=message.tool_call_id or "")
    return AIMessage(message.content, tool_calls=[
        {"name": c.name, "args": c.arguments, "id": c.id} for c in message.tool_calls])


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", ""))
                   for part in content)


class LangChainChatModel:
    backend = "langchain"

    def __init__(self, model: BaseChatModel, *, name: str | None = None) -> None:
        self._model = model
        self._name = name or f"langchain:{type(model).__name__}"

    @property
    def name(self) -> str:
        return self._name

    async def chat(self, request: ChatRequest) -> ChatResponse:
        runnable: Any = self._model
        if request.tools:
            try:
                runnable = self._model.bind_tools([{"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}}
                    for t in request.tools])
            except NotImplementedError:
                raise ModelUnavailable(f"{type(self._model).__name__} cannot call tools",
                                       model=self._name, fix="use a chat model with "
                                       "bind_tools, or an agent without tools") from None
        started = time.perf_counter()
        try:
            reply = await runnable.ainvoke([_message(m) for m in request.messages],
                                           stop=list(request.options.stop) or None)
        except OSError as exc:  # ConnectionError, TimeoutError and the like
            raise ModelUnavailable(f"{self._name} is unreachable: {exc}", model=self._name,
                                   fix="check the server behind the LangChain model") from exc
        except Exception as exc:  # a LangChain integration raises its own error types
            raise ModelResponseError(f"{self._name} failed: {type(exc).__name__}: {exc}",
                                     model=self._name) from exc
        if not isinstance(reply, AIMessage):
            raise ModelResponseError(f"{self._name} returned {type(reply).__name__}, not an "
                                     "AIMessage", model=self._name)
        meta: dict[str, Any] = dict(reply.usage_metadata or {})
        calls = tuple(ToolCall(id=c.get("id") or f"call_{i}", name=c["name"],
                               arguments=dict(c["args"]))
                      for i, c in enumerate(reply.tool_calls))
        usage = Usage(prompt_tokens=int(meta.get("input_tokens", 0)),
                      completion_tokens=int(meta.get("output_tokens", 0)),
                      wall_seconds=time.perf_counter() - started)
        return ChatResponse(text=_text(reply.content), tool_calls=calls, usage=usage,
                            model=self._name,
                            finish_reason="tool_calls" if calls else "stop")

    async def describe(self) -> ModelInfo:
        return ModelInfo(model=self._name, backend=self.backend)

    async def aclose(self) -> None:
        """The LangChain model belongs to the caller."""
