"""The model layer: one async seam (`ChatModel`), typed requests/responses, backends by URI."""

from shoal.models.base import ChatModel, StreamingChatModel, stream_chat
from shoal.models.fake import FakeChatModel, FunctionChatModel
from shoal.models.registry import open_model
from shoal.models.types import (
    Attempt,
    ChatOptions,
    ChatRequest,
    ChatResponse,
    Message,
    ModelInfo,
    StreamChunk,
    Tool,
    ToolCall,
    Usage,
)

__all__ = [
    "Attempt",
    "ChatModel",
    "ChatOptions",
    "ChatRequest",
    "ChatResponse",
    "FakeChatModel",
    "FunctionChatModel",
    "Message",
    "ModelInfo",
    "StreamChunk",
    "StreamingChatModel",
    "Tool",
    "ToolCall",
    "Usage",
    "open_model",
    "stream_chat",
]
