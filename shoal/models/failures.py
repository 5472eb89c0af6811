"""What a failed model call means, and its fix: one table for every backend.

HTTP backends (Ollama, OpenAI-compatible) and the context check before a call turn their
failures into Shoal errors here, so a 503, a 401, a timeout, a malformed reply and a context
overflow each keep their own error type and fix wherever they happen. Server text is redacted
of the secrets a backend sent before it goes into an error: errors end up in runs, calls and
checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from shoal.errors import (
    ContextLengthError,
    ModelError,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
)

__all__ = ["context_overflow", "malformed_reply", "redact", "status_error", "transport_error"]

_REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret (API key, token) replaced by [redacted]."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def status_error(status: int, detail: str, *, model: str, server: str,
                 key_setting: str | None) -> ModelError:
    """The error for an HTTP error status other than the backend's own cases (404, context).
    `key_setting` names the setting holding the key this backend sends, if it has one."""
    if status in (401, 403):
        fix = (f"set {key_setting} to a key this server accepts" if key_setting else
               "this backend sends no credentials: reach the server without the proxy that "
               "asks for them")
        return ModelUnavailable(f"{server} refused the request ({status}): {detail}",
                                model=model, fix=fix)
    if status in (429, 503):
        return ModelUnavailable(
            f"{server} is busy ({status}): {detail}", model=model, retryable=True,
            fix="retry later, send fewer requests at once, or give the server more capacity "
                "(for Ollama: OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE)")
    return ModelResponseError(f"{server} answered {status}: {detail}", model=model,
                              status_code=status,
                              fix="read the server's message above; check the server's log")


def transport_error(exc: httpx.TransportError, *, model: str, server: str,
                    timeout: float) -> ModelError:
    """The error for a connection that was made and then failed or timed out."""
    if isinstance(exc, httpx.TimeoutException):
        return ModelTimeout(
            f"{server} gave no answer within {timeout:g} s ({type(exc).__name__})",
            model=model, seconds=timeout, setting="SHOAL_REQUEST_TIMEOUT",
            fix=f"raise SHOAL_REQUEST_TIMEOUT (now {timeout:g} s), ask for fewer tokens "
                "(options.max_tokens), or use a smaller model")
    return ModelResponseError(f"{server} stopped answering: {type(exc).__name__}: {exc}",
                              model=model, retryable=True,
                              fix="retry; check the server's log for a crash")


def malformed_reply(what: str, *, model: str, server: str,
                    status_code: int | None = None) -> ModelResponseError:
    """The error for a reply Shoal cannot read (not JSON, or not the documented shape)."""
    return ModelResponseError(
        f"{server} sent a reply that is not the expected JSON: {what}", model=model,
        status_code=status_code,
        fix="check that the model URI points at the right kind of server (Ollama's own API, "
            "or an OpenAI-compatible …/v1), and that no proxy rewrites its replies")


def context_overflow(detail: str, *, model: str, prompt_tokens: int | None,
                     context_length: int | None) -> ContextLengthError:
    """The error for a prompt that does not fit the context window."""
    sizes = ""
    if prompt_tokens is not None or context_length is not None:
        sizes = f" ({prompt_tokens or '?'} prompt tokens, num_ctx {context_length or '?'})"
    return ContextLengthError(
        f"{model}: {detail}{sizes}", model=model, prompt_tokens=prompt_tokens,
        context_length=context_length,
        fix="raise num_ctx (options.num_ctx or SHOAL_N_CTX), trim the input (on_overflow: "
            "drop_oldest drops old turns of a conversation), or for a long document send only "
            "the parts that matter, one call per part")
