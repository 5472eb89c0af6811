"""Checks a command makes before any expensive work (OCR, model loads, generation): its files
are readable, its models are there and its databases open. Each failure is the error the work
would have hit later, raised at once with its fix."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from shoal.errors import InputError
from shoal.models.registry import check_model
from shoal.session import Session

__all__ = ["check_files", "check_models"]


def check_files(paths: Iterable[Path]) -> None:
    for path in paths:
        if not path.exists():
            raise InputError(f"{path} does not exist", source=str(path),
                             fix="check the path (quote names with spaces)")
        if not path.is_file():
            raise InputError(f"{path} is not a file", source=str(path),
                             fix="give the files themselves, e.g. folder/*.png")
        if not os.access(path, os.R_OK):
            raise InputError(f"{path} cannot be read (permission denied)", source=str(path),
                             fix="give yourself read access to it, or copy it somewhere you can")


async def check_models(session: Session, uris: Iterable[str]) -> None:
    """Every model of a chain (first model, escalation targets) can be reached."""
    for uri in dict.fromkeys(uris):
        await check_model(uri, session.model(uri), session.settings)
