"""Shoal: multi-agent workflows built from small specialized language models."""


from shoal.errors import (
    AgentError,
    BudgetExceeded,
    ConfigError,
    ContextLengthError,
    InputError,
    ModelError,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
    OutputValidationError,
    PackError,
    ShoalError,
)
from shoal.models import (
    Attempt,
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
from shoal.session import Session
from shoal.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "AgentError",
    "Attempt",
    "BudgetExceeded",
    "ChatModel",
    "ChatOptions",
    "ChatRequest",
    "ChatResponse",
    "ConfigError",
    "ContextLengthError",
    "FakeChatModel",
    "FunctionChatModel",
    "InputError",
    "Message",
    "ModelError",
    "ModelResponseError",
    "ModelTimeout",
    "ModelUnavailable",
    "OutputValidationError",
    "PackError",
    "Session",
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
