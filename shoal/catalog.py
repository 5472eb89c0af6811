"""Named configs: agents (NAME.yaml) and graphs (NAME.yaml), looked up along the settings'
search path (the project's folder, then the packaged defaults). The first file of a name wins,
so a project can override a packaged agent by giving its own file the same name."""

from __future__ import annotations

from pathlib import Path

from shoal.errors import ConfigError
from shoal.settings import ConfigKind, Settings

__all__ = ["config_files", "find_config"]


def config_files(settings: Settings, kind: ConfigKind) -> dict[str, Path]:
    """Every NAME.yaml of `kind` on the search path, by name (first found wins)."""
    found: dict[str, Path] = {}
    for directory in settings.search_dirs(kind):
        for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
            found.setdefault(path.stem, path)
    return found


def find_config(settings: Settings, kind: ConfigKind, name: str) -> Path:
    """The file of agent or graph `name`; ConfigError saying where it looked."""
    files = config_files(settings, kind)
    if name in files:
        return files[name]
    where = ", ".join(str(d) for d in settings.search_dirs(kind))
    singular = kind.removesuffix("s")
    raise ConfigError(
        f"no {singular} {name!r}: no {name}.yaml in {where}",
        fix=f"use one of: {', '.join(sorted(files)) or '(none)'}; or add {name}.yaml to "
        f"configs/{kind}/ next to your shoal.toml (or set SHOAL_{kind.upper()}_DIR)")
