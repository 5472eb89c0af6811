"""Objects named by import path in YAML configs: `package.module:Name` or `package.module.Name`."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["resolve_import"]


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
