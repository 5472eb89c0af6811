"""Test tiers by folder: tests/unit (fakes, no I/O), tests/wire (exact HTTP JSON), tests/real
(embedded small models, real files and servers). Select one with `-m unit|wire|real`."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from shoal.settings import Settings, load_settings

_TIERS = ("unit", "wire", "real")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in _TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings that touch nothing outside tmp_path and ignore the developer's environment."""
    for name in ("SHOAL_CONFIG", "OLLAMA_HOST", "OLLAMA_MODELS", "SHOAL_OLLAMA_HOST",
                 "SHOAL_N_CTX", "SHOAL_CACHE_DIR", "SHOAL_DEFAULT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return load_settings(cache_dir=tmp_path / "cache", ollama_models_dir=tmp_path / "ollama")


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
