"""Shoal: multi-agent workflows built from small specialized language models."""

from shoal.errors import (
    ConfigError,
    ContextLengthError,
    ModelError,
    ModelResponseError,
    ModelUnavailable,
    PackError,
    ShoalError,
)
from shoal.models import (
    ChatModel,
    ChatOptions,
    ChatRequest,
    ChatResponse,
    FakeChatModel,
    FunctionChatModel,
    Message,
    StreamingChatModel,
    Tool,
    ToolCall,
    Usage,
    open_model,
)
from shoal.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "ChatModel",
    "ChatOptions",
    "ChatRequest",
    "ChatResponse",
    "ConfigError",
    "ContextLengthError",
    "FakeChatModel",
    "FunctionChatModel",
    "Message",
    "ModelError",
    "ModelResponseError",
    "ModelUnavailable",
    "PackError",
    "Settings",
    "ShoalError",
    "StreamingChatModel",
    "Tool",
    "ToolCall",
    "Usage",
    "__version__",
    "load_settings",
    "open_model",
]
