"""Model URIs -> ChatModel objects. Opening a model does no I/O; backends load on first call.

    pack:<name>                  a model pack, run in process by llama.cpp
    gguf:<path>                  any GGUF file, run in process by llama.cpp
    ollama:<name>                an Ollama server (native /api/chat); falls back to the local
                                 Ollama store's GGUF when no server answers
    openai:<base_url>#<model>    an OpenAI-compatible server (vLLM, llama-server, LM Studio)
    fake:echo                    a shipped test double echoing the last user message; other
                                 fakes are given to a Session: Session(models={uri: model})
    langchain:<name>             a LangChain chat model wrapped in LangChainChatModel, given
                                 to a Session the same way (shoal.models.langchain)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from shoal.errors import ConfigError, ModelUnavailable
from shoal.models.base import ChatModel, StreamingChatModel
from shoal.models.fake import FunctionChatModel, echo_last_user_message
from shoal.models.packs import ensure_pack, get_pack
from shoal.models.retry import HostLimits, RetryPolicy
from shoal.settings import Settings, load_settings

__all__ = ["SCHEMES", "check_model", "open_model"]

SCHEMES = ("pack", "gguf", "ollama", "openai", "fake", "langchain")


def _split(uri: str) -> tuple[str, str]:
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme not in SCHEMES or not rest:
        raise ConfigError(
            f"model URI {uri!r} is not one of {', '.join(s + ':…' for s in SCHEMES)}",
            fix="write e.g. pack:qwen2.5-coder-0.5b, ollama:qwen2.5-coder:0.5b, "
            "gguf:/path/model.gguf or openai:http://127.0.0.1:8080/v1#model",
        )
    return scheme, rest


def _embedded(uri: str, locate: Callable[[], Path], settings: Settings) -> StreamingChatModel:
    from shoal.models.llamacpp import EmbeddedChatModel  # imports llama.cpp only when used

    return EmbeddedChatModel(locate, name=uri, n_ctx=settings.n_ctx,
                             n_threads=settings.n_threads, verbosity=settings.llama_log_level)


def open_model(uri: str, settings: Settings | None = None,
               limits: HostLimits | None = None) -> StreamingChatModel:
    """A new model object for `uri`, owned by the caller (close it with `aclose`; a Session
    does this for the models it opens). `limits`: the requests in flight per server host,
    shared by every model given the same object (a Session's). Raises ConfigError for a
    malformed URI or unknown pack."""
    settings = settings or load_settings()
    limits = limits or HostLimits(settings.host_max_parallel)  # the HTTP backends'
    retry = RetryPolicy(attempts=settings.retry_attempts)
    scheme, rest = _split(uri)
    if scheme == "pack":
        get_pack(rest)  # unknown names fail now, not at the first call
        return _embedded(uri, lambda: ensure_pack(rest, settings.cache_dir), settings)
    if scheme == "gguf":
        path = Path(rest).expanduser()
        return _embedded(uri, lambda: path, settings)
    if scheme == "ollama":
        from shoal.models.ollama import OllamaChatModel

        return OllamaChatModel(
            rest, host=settings.ollama_host, num_ctx=settings.n_ctx,
            timeout=settings.request_timeout, store=settings.ollama_models_dir,
            local_fallback=lambda gguf: _embedded(f"gguf:{gguf}", lambda: gguf, settings),
            load_timeout=settings.first_load_timeout, limits=limits, retry=retry,
        )
    if scheme == "openai":
        from shoal.models.openai_compat import OpenAICompatChatModel

        base_url, sep, model = rest.partition("#")
        if not sep or not model or not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"model URI {uri!r} needs a base URL and a model after '#'",
                              fix="write openai:http://127.0.0.1:8080/v1#my-model")
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAICompatChatModel(base_url, model, timeout=settings.request_timeout,
                                     api_key=key, limits=limits, retry=retry)
    if scheme == "langchain":
        raise ConfigError(f"{uri} is a LangChain model: it is built in Python, not opened by "
                          "name", fix="give it to the session: Session(models={"
                          f"{uri!r}: LangChainChatModel(chat_model)}})")
    if rest == "echo":
        return FunctionChatModel(echo_last_user_message, name=uri)
    raise ConfigError(f"no fake model {uri!r}: only fake:echo opens by itself",
                      fix="give the fake to the session: Session(models={uri: model})")


async def check_model(uri: str, model: ChatModel, settings: Settings) -> None:
    """Raise now, with its fix, the error the first call to `model` (opened for `uri`) would
    raise because it cannot be reached or is not there: a pack that is not assembled, a
    missing GGUF, a server that does not answer or lacks the model. Loads nothing."""
    scheme, rest = _split(uri)
    if scheme == "pack":
        await asyncio.to_thread(ensure_pack, rest, settings.cache_dir)
    elif scheme == "gguf" and not await asyncio.to_thread(_is_file, rest):
        raise ModelUnavailable(f"GGUF file {rest} does not exist", model=uri,
                               fix="check the path after gguf:")
    elif scheme in ("ollama", "openai"):
        await model.describe()


def _is_file(path: str) -> bool:
    return Path(path).expanduser().is_file()
