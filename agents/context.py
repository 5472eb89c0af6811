"""Context budget: count a request's prompt tokens before sending it and make it fit the
pinned num_ctx, or fail clearly. Never leave it to the server to truncate silently."""

from __future__ import annotations

import math
from typing import Literal

from shoal.models import ChatModel, ChatRequest
from shoal.models.base import TokenCountingChatModel
from shoal.models.failures import context_overflow

__all__ = ["count_prompt_tokens", "fit_to_context"]

_CHARS_PER_TOKEN = 3  # a conservative estimate where the backend has no tokenizer endpoint


async def count_prompt_tokens(model: ChatModel, request: ChatRequest) -> tuple[int, bool]:
    """(tokens, exact): the model's own count where it can give one, else an estimate."""
    if isinstance(model, TokenCountingChatModel):
        return await model.count_tokens(request), True
    chars = sum(len(m.content) + 8 for m in request.messages)
    chars += sum(len(t.model_dump_json()) for t in request.tools)
    return math.ceil(chars / _CHARS_PER_TOKEN), False


async def fit_to_context(
    model: ChatModel,
    request: ChatRequest,
    *,
    num_ctx: int,
    on_overflow: Literal["error", "drop_oldest"],
) -> ChatRequest:
    """`request`, or with `drop_oldest` a copy without its oldest turns (after the system
    message, before the last one), so that prompt + max_tokens fits `num_ctx`."""
    room = num_ctx - (request.options.max_tokens or 0)
    while True:
        tokens, exact = await count_prompt_tokens(model, request)
        if tokens <= room:
            return request
        messages = list(request.messages)
        first = 1 if messages[0].role == "system" else 0
        droppable = len(messages) - 1 - first
        if on_overflow != "drop_oldest" or droppable <= 0:
            how = "" if exact else ", estimated"
            raise context_overflow(
                f"the prompt does not fit with {request.options.max_tokens or 0} tokens to "
                f"generate{how}", model=model.name, prompt_tokens=tokens, context_length=num_ctx)
        # Drop a user/assistant pair where possible so turns stay aligned.
        count = 2 if droppable >= 2 else 1
        del messages[first:first + count]
        request = request.model_copy(update={"messages": tuple(messages)})
