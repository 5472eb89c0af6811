"""Where CLI tables go: the terminal at its width, or (piped, logged, tested) 160 columns so
that names and paths are not folded into 80."""

from __future__ import annotations

from rich.console import Console

__all__ = ["table_console"]

_PIPED_WIDTH = 160


def table_console() -> Console:
    out = Console(highlight=False)
    return out if out.is_terminal else Console(width=_PIPED_WIDTH, highlight=False)
