"""Real tier: the embedded runtime on the qwen2.5-coder-0.5b pack (installed if missing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from shoal.models.packs import ensure_pack
from shoal.session import Session
from shoal.settings import load_settings

QWEN = "qwen2.5-coder-0.5b"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    return ensure_pack(QWEN, load_settings().cache_dir, install=True)


@pytest.fixture(scope="session")
def qwen15_gguf() -> Path:
    return ensure_pack("qwen2.5-coder-1.5b", load_settings().cache_dir, install=True)


@pytest.fixture
async def real_session(tmp_path: Path) -> AsyncIterator[Session]:
    """A session on a temporary memory database (never the user's ledger or call cache; the
    packs still come from the user's cache dir), closed after the test."""
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'shoal.db'}")
    async with Session(settings) as session:
        yield session


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """The CLI in process (typer's runner). A ShoalError ends it with exit code 1 and is kept in
    `.exception` (`main`, run as a process, prints it; test_cli checks that)."""
    from shoal.cli.app import app

    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The CLI's memory (ledger, call cache) in tmp_path, never the user's."""
    monkeypatch.chdir(ROOT)
    return {"SHOAL_DATABASE_URL": f"sqlite:///{tmp_path / 'memory.db'}"}
