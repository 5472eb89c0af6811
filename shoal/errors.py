"""Every error Shoal raises, in one tree.

    ShoalError                      base: message + an optional `fix` telling the user what to do
    ├── ConfigError                 bad settings, config file, model URI, pack name or agent spec
    ├── InputError                  a file or value given to Shoal is unusable (unreadable, empty)
    ├── AgentError                  an agent run did not produce a valid result
    │   ├── OutputValidationError   every attempt (retries, escalations) gave invalid output
    │   └── BudgetExceeded          the run hit its token, time or escalation budget
    ├── GraphError                  a graph run stopped before its end (its step limit)
    ├── ServiceError                the HTTP or MCP service refused a request
    │   ├── AuthError               no API key, or one the service does not know (HTTP 401)
    │   └── ServiceBusy             a model's queue is full; `retry_after` seconds (HTTP 429)
    └── ModelError                  anything that went wrong talking to a model
        ├── ModelUnavailable        server not reachable, busy (429/503), refused the key (401/403),
        │   │                       model not installed, GGUF will not load
        │   └── PackError           a model pack cannot be installed, assembled or verified
        ├── ModelTimeout            no answer within the request timeout (SHOAL_REQUEST_TIMEOUT)
        ├── ContextLengthError      the prompt does not fit the model's context window
        └── ModelResponseError      the backend answered with an error or a malformed response

An agent whose every model failed to answer raises the last ModelError itself (its class and
fix intact, `agent` and `attempts` filled in), not an OutputValidationError: a busy server or a
missing key is not solved by retries or a bigger model.

Errors never log; whoever catches them decides what to print. `str(error)` includes the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shoal.models.types import Attempt

__all__ = [
    "AgentError",
    "AuthError",
    "BudgetExceeded",
    "ConfigError",
    "ContextLengthError",
    "GraphError",
    "InputError",
    "ModelError",
    "ModelResponseError",
    "ModelTimeout",
    "ModelUnavailable",
    "OutputValidationError",
    "PackError",
    "ServiceBusy",
    "ServiceError",
    "ShoalError",
]


class ShoalError(Exception):
    """Base of every Shoal error. `fix` says, in one sentence, how to make it go away."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ConfigError(ShoalError):
    """Settings, a config file, a model URI or a pack name is invalid."""


class InputError(ShoalError):
    """A file or value given to Shoal cannot be used. `source` names it."""

    def __init__(self, message: str, *, source: str, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.source = source


class AgentError(ShoalError):
    """An agent run failed. `attempts` holds every model call made, in order."""

    def __init__(
        self, message: str, *, agent: str, attempts: tuple[Attempt, ...], fix: str | None = None
    ) -> None:
        super().__init__(message, fix=fix)
        self.agent = agent
        self.attempts = attempts


class OutputValidationError(AgentError):
    """No model in the escalation chain produced output that passed validation. `partial` is
    the best structured answer seen (valid JSON of the output's shape that failed a later
    check such as grounding or a validator), or None: for a reviewer, never trusted as valid."""

    def __init__(
        self,
        message: str,
        *,
        agent: str,
        attempts: tuple[Attempt, ...],
        partial: Any = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message, agent=agent, attempts=attempts, fix=fix)
        self.partial = partial


class BudgetExceeded(AgentError):
    """The run stopped at its budget (tokens, seconds or escalations) before succeeding."""


class GraphError(ShoalError):
    """A graph run stopped before reaching its end. `graph` names it."""

    def __init__(self, message: str, *, graph: str, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.graph = graph


class ServiceError(ShoalError):
    """The service refused a request before running anything."""


class AuthError(ServiceError):
    """The request carries no API key, or one the service does not know."""


class ServiceBusy(ServiceError):
    """A model's queue is full: try again in `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, fix=f"retry in {retry_after} s, or send fewer requests "
                         "at once")
        self.retry_after = retry_after


class ModelError(ShoalError):
    """A model call failed. `model` names the model URI involved. Raised out of an agent run,
    `agent` names the agent and `attempts` holds its calls, as on AgentError."""

    def __init__(self, message: str, *, model: str, fix: str | None = None,
                 retryable: bool = False) -> None:
        super().__init__(message, fix=fix)
        self.model = model
        self.retryable = retryable  # a later attempt may succeed (busy, connection dropped)
        self.agent: str | None = None
        self.attempts: tuple[Attempt, ...] = ()

    def in_agent(self, agent: str, attempts: tuple[Attempt, ...]) -> ModelError:
        """This error, named as the end of `agent`'s run (the message says which agent)."""
        if self.agent is None:
            self.message = f"agent {agent}: {self.message}"
        self.agent, self.attempts = agent, attempts
        return self


class ModelUnavailable(ModelError):
    """The model cannot be reached or loaded: nothing was generated."""


class PackError(ModelUnavailable):
    """A model pack cannot be installed, assembled or verified."""


class ModelTimeout(ModelError):
    """No answer within `seconds`, the limit set by `setting`."""

    def __init__(self, message: str, *, model: str, seconds: float, setting: str,
                 fix: str | None = None) -> None:
        super().__init__(message, model=model, fix=fix)
        self.seconds = seconds
        self.setting = setting


class ContextLengthError(ModelError):
    """The request needs more tokens than the model's context window holds."""

    def __init__(
        self,
        message: str,
        *,
        model: str,
        prompt_tokens: int | None,
        context_length: int | None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message, model=model, fix=fix)
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length


class ModelResponseError(ModelError):
    """The backend answered, but with an error status or a response we cannot read."""

    def __init__(
        self, message: str, *, model: str, status_code: int | None = None,
        fix: str | None = None, retryable: bool = False,
    ) -> None:
        super().__init__(message, model=model, fix=fix, retryable=retryable)
        self.status_code = status_code
