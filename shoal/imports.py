"""Objects named by import path in YAML configs: `package.module:Name` or `package.module.Name`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["config_roots", "importable_from", "resolve_import"]


def resolve_import(path: str) -> Any:
    """The object at `path`; raises ValueError naming the path and what went wrong."""
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot import {path!r}: {exc}") from exc
    return obj


def config_roots(config: Path) -> tuple[Path, ...]:
    """Where a YAML config's own Python names import from: its folder, and the project folder
    (the nearest one above it holding shoal.toml)."""
    here = config.resolve().parent
    project = next((d for d in (here, *here.parents) if (d / "shoal.toml").is_file()), None)
    return (here,) if project is None or project == here else (here, project)


@contextmanager
def importable_from(dirs: Sequence[Path]) -> Iterator[None]:
    """Make modules in `dirs` importable while the block runs (modules imported stay)."""
    added = [str(d) for d in dirs if str(d) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            if entry in sys.path:
                sys.path.remove(entry)
