"""Settings in one place: explicit arguments > environment (`SHOAL_*`) > config file > defaults.

The config file is the file named by `SHOAL_CONFIG`, else the first `shoal.toml` in the working
directory or one of its parents: its folder is the project folder, and relative paths in it
resolve against that folder, so a project behaves the same from any of its sub-folders.
Agents and graphs are looked up in the project's folders (`agents_dir`, `graphs_dir`; default
`<project>/configs/agents` and `configs/graphs`), then in the defaults packaged with Shoal.
The Ollama host also honours Ollama's own `OLLAMA_HOST`, and the Ollama model store `OLLAMA_MODELS`.
`sources(settings)` says where each value came from (`shoal info` prints it).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shoal.errors import ConfigError
from shoal.problems import validation_problems

__all__ = ["PACKAGED_CONFIGS", "ConfigKind", "Settings", "find_config_file", "load_settings",
           "sources"]

_CONFIG_ENV = "SHOAL_CONFIG"
_DEFAULT_CONFIG = "shoal.toml"
_RELATIVE_TO_PROJECT = ("agents_dir", "graphs_dir", "prices_file", "cache_dir")

PACKAGED_CONFIGS = Path(__file__).resolve().parent / "configs"
"""The agents, graphs and price table shipped with Shoal (the repository's configs/)."""

ConfigKind = Literal["agents", "graphs"]


def _default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("shoal"))


def _default_database_url() -> str:
    return f"sqlite:///{Path(platformdirs.user_data_dir('shoal')) / 'shoal.db'}"


class Settings(BaseSettings):
    """Everything configurable about Shoal. Build with `load_settings()`."""

    model_config = SettingsConfigDict(
        env_prefix="SHOAL_", extra="forbid", frozen=True, populate_by_name=True
    )

    default_model: str = "pack:qwen2.5-coder-0.5b"
    ollama_host: str = Field(
        default="http://127.0.0.1:11434",
        validation_alias=AliasChoices("SHOAL_OLLAMA_HOST", "OLLAMA_HOST"),
    )
    ollama_models_dir: Path = Field(
        default=Path.home() / ".ollama" / "models",
        validation_alias=AliasChoices(
            "SHOAL_OLLAMA_MODELS_DIR", "OLLAMA_MODELS"
        ),
    )
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    project_dir: Path | None = Field(
        default=None, description="the folder of the config file in force (set from it)")
    agents_dir: Path | None = Field(
        default=None, description="searched for NAME.yaml agents before the packaged ones "
        "(default: <project>/configs/agents)")
    graphs_dir: Path | None = Field(
        default=None, description="searched for NAME.yaml graphs before the packaged ones "
        "(default: <project>/configs/graphs)")
    prices_file: Path | None = Field(
        default=None, description="price table for cost estimates (default: "
        "<project>/configs/prices.yaml if it exists, else the packaged one)")
    database_url: str = Field(default_factory=_default_database_url)
    n_ctx: int = Field(default=4096, gt=0, description="context window when a request sets none")
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, gt=0)
    llama_log_level: int = Field(
        default=-1, description="llama.cpp verbosity after load (-1 quiet); load logs are routed"
    )
    max_graph_steps: int = Field(default=50, gt=0,
                                 description="steps a graph run may take before it is stopped")
    max_pages: int = Field(default=20, gt=0, description="pages of a PDF or TIFF OCR reads; "
                           "a longer file is refused before any page is decoded")
    max_image_pixels: int = Field(default=80_000_000, gt=0, description="pixels of an image "
                                  "OCR accepts, checked before decoding; smaller ones larger "
                                  "than an A4 page at 300 dpi are scaled down to that")
    openai_api_key: SecretStr | None = None
    api_keys: SecretStr | None = Field(
        default=None, description="keys `shoal serve` accepts, comma-separated "
        "(SHOAL_API_KEYS); kept only as their sha256 once the service starts")
    api_key_hashes: tuple[str, ...] = Field(
        default=(), description="sha256 hex digests of accepted keys, for a config file that "
        "must not hold the keys themselves (`shoal serve --hash-key KEY` prints one)")
    request_timeout: float = Field(default=600.0, gt=0)
    first_load_timeout: float = Field(
        default=900.0, gt=0, description="seconds a server may take for a model's first call, "
        "which loads it (Ollama); later calls get request_timeout")
    host_max_parallel: int = Field(
        default=4, gt=0, description="requests in flight to one model server (Ollama, "
        "OpenAI-compatible) from this process; more wait their turn (for Ollama, match "
        "OLLAMA_NUM_PARALLEL + OLLAMA_MAX_QUEUE)")
    retry_attempts: int = Field(
        default=6, gt=0, description="tries of a call the server refused as busy (429/503) or "
        "dropped, with jittered exponential backoff")

    def search_dirs(self, kind: ConfigKind) -> tuple[Path, ...]:
        """Where agents or graphs are looked up, in order: the project's folder, then the
        packaged defaults."""
        own = self.agents_dir if kind == "agents" else self.graphs_dir
        if own is None and self.project_dir is not None:
            own = self.project_dir / "configs" / kind
        dirs = [own.resolve()] if own is not None else []
        packaged = PACKAGED_CONFIGS / kind
        return tuple(dirs + ([packaged] if packaged not in dirs else []))

    def prices_path(self) -> Path:
        if self.prices_file is not None:
            return self.prices_file
        if self.project_dir is not None and (self.project_dir / "configs/prices.yaml").is_file():
            return self.project_dir / "configs" / "prices.yaml"
        return PACKAGED_CONFIGS / "prices.yaml"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))


def find_config_file() -> Path | None:
    """The config file in force: $SHOAL_CONFIG, else the nearest shoal.toml at or above the
    working directory, else None."""
    explicit = os.environ.get(_CONFIG_ENV)
    if explicit:
        path = Path(explicit).resolve()
        if not path.is_file():
            raise ConfigError(f"config file {path} named by {_CONFIG_ENV} does not exist",
                              fix=f"create it or unset {_CONFIG_ENV}")
        return path
    here = Path.cwd().resolve()
    return next((d / _DEFAULT_CONFIG for d in (here, *here.parents)
                 if (d / _DEFAULT_CONFIG).is_file()), None)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}",
                          fix="correct the TOML syntax") from exc
    for key in _RELATIVE_TO_PROJECT:
        if isinstance(data.get(key), str) and not Path(data[key]).expanduser().is_absolute():
            data[key] = str(path.parent / data[key])
    return data


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads top-level keys of the project's TOML config file; sets project_dir to its folder."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ below returns the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        path = find_config_file()
        if path is None:
            return {}
        return {"project_dir": str(path.parent), **_read_config_file(path)}


def _env_names(name: str, field: Any) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [f"SHOAL_{name.upper()}"]


def sources(settings: Settings) -> dict[str, tuple[str, str]]:
    """For each setting, (where its value came from, its environment variable names):
    environment, the config file's path, or default (also for arguments given in code)."""
    path = find_config_file()
    in_file = _read_config_file(path) if path is not None else {}
    upper_env = {k.upper() for k in os.environ}
    found = {}
    for name, field in Settings.model_fields.items():
        names = _env_names(name, field)
        if any(n.upper() in upper_env for n in names):
            origin = "environment " + next(n for n in names if n.upper() in upper_env)
        elif name in in_file or (name == "project_dir" and path is not None):
            origin = str(path)
        else:
            origin = "default"
        found[name] = (origin, ", ".join(names))
    return found


def load_settings(**overrides: Any) -> Settings:
    """Settings from arguments, environment and config file; raises ConfigError if invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(validation_problems(exc, root="settings"))
        raise ConfigError(
            f"invalid Shoal settings: {problems}",
            fix="check SHOAL_* environment variables, shoal.toml and the arguments given",
        ) from exc
