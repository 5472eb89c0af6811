"""Settings in one place: explicit arguments > environment (`SHOAL_*`) > config file > defaults.

The config file is `shoal.toml` in the working directory, or the file named by `SHOAL_CONFIG`.
The Ollama host also honours Ollama's own `OLLAMA_HOST`, and the Ollama model store `OLLAMA_MODELS`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shoal.errors import ConfigError
from shoal.problems import validation_problems

__all__ = ["Settings", "load_settings"]

_CONFIG_ENV = "SHOAL_CONFIG"
_DEFAULT_CONFIG = "shoal.toml"


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
    agents_dir: Path = Field(default=Path("configs/agents"),
                             description="where `shoal agent run NAME` finds NAME.yaml")
    graphs_dir: Path = Field(default=Path("configs/graphs"),
                             description="where `shoal run NAME` finds NAME.yaml")
    prices_file: Path = Field(default=Path("configs/prices.yaml"),
                              description="price table for cost estimates")
    database_url: str = Field(default_factory=_default_database_url)
    n_ctx: int = Field(default=4096, gt=0, description="context window when a request sets none")
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 1, gt=0)
    llama_log_level: int = Field(
        default=-1, description="llama.cpp verbosity after load (-1 quiet); load logs are routed"
    )
    openai_api_key: SecretStr | None = None
    request_timeout: float = Field(default=600.0, gt=0)

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


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads `[shoal]`-less top-level keys from the project's TOML config file."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ below returns the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        explicit = os.environ.get(_CONFIG_ENV)
        path = Path(explicit) if explicit else Path.cwd() / _DEFAULT_CONFIG
        if not path.is_file():
            if explicit:
                raise ConfigError(
                    f"config file {path} named by {_CONFIG_ENV} does not exist",
                    fix=f"create it or unset {_CONFIG_ENV}",
                )
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}",
                              fix="correct the TOML syntax") from exc
        return data


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
