"""A pydantic ValidationError as the one-line problems Shoal's errors and repair messages use."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["validation_problems"]


def validation_problems(exc: ValidationError, *, root: str = "value") -> list[str]:
    """One `where: what` line per error of `exc` (`root` names a problem at the top level)."""
    return [f"{'.'.join(map(str, error['loc'])) or root}: {_message(error['msg'])}"
            for error in exc.errors()]


def _message(text: str) -> str:
    """pydantic's message without the "Value error, " it puts before a validator's own."""
    for prefix in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(prefix)
    return text
