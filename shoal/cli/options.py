"""Options shared by the pipeline commands: which model answers first, and where it escalates."""

from __future__ import annotations

from typing import Annotated

import typer

from shoal.errors import ConfigError

__all__ = ["DEFAULT_ESCALATION", "EscalateTo", "Escalation", "ModelOption", "escalation_chain"]

DEFAULT_ESCALATION = "pack:qwen2.5-coder-1.5b"

ModelOption = Annotated[str | None, typer.Option(
    "--model", help="model URI that answers first (default: the settings' default_model)")]
EscalateTo = Annotated[str | None, typer.Option(
    "--escalate-to", help=f"model URI to escalate to when validation fails "
                          f"(default: {DEFAULT_ESCALATION})")]
Escalation = Annotated[bool, typer.Option(
    "--escalation/--no-escalation", help="escalate to a bigger model when validation fails")]


def escalation_chain(escalate_to: str | None, escalation: bool) -> tuple[str, ...]:
    """The models after the first one."""
    if not escalation:
        if escalate_to is not None:
            raise ConfigError("--escalate-to and --no-escalation contradict each other",
                              fix="drop one of them")
        return ()
    return (escalate_to or DEFAULT_ESCALATION,)
