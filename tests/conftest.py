"""Test tiers by folder: tests/unit (fakes, no I/O), tests/wire (exact HTTP JSON), tests/real
and tests/security (embedded small models, real databases, files and servers).
Select one with `-m unit|wire|real`."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.settings import Settings, load_settings

_TIERS = {"unit": "unit", "wire": "wire", "real": "real", "security": "real"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = _TIERS.get(Path(str(item.fspath)).parent.name)
        if tier:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings that touch nothing outside tmp_path and ignore the developer's environment."""
    for name in ("SHOAL_CONFIG", "OLLAMA_HOST", "OLLAMA_MODELS", "SHOAL_OLLAMA_HOST",
                 "SHOAL_N_CTX", "SHOAL_CACHE_DIR", "SHOAL_DEFAULT_MODEL", "SHOAL_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return load_settings(cache_dir=tmp_path / "cache", ollama_models_dir=tmp_path / "ollama",
                         database_url=f"sqlite:///{tmp_path / 'shoal.db'}")


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        pytest.fail(f"PostgreSQL's {name} is missing: install the Debian package postgresql "
                    "(.ci/run does)")
    return found


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server on a Unix socket in a temporary folder, for this session;
    yields a libpq URL of its `postgres` database. Runs as the `postgres` user when root."""
    root = Path(tempfile.mkdtemp(prefix="shoal-pg-"))
    root.chmod(0o755)
    data, socket_dir = root / "data", root / "sock"
    socket_dir.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(socket_dir, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = "5499"
    subprocess.run([*as_user, _pg_binary("initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*as_user, _pg_binary("pg_ctl"), "-D", str(data), "-w", "-l",
                    str(root / "log"), "-o", f"-k {socket_dir} -c listen_addresses='' -p {port}",
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"
    finally:
        subprocess.run([*as_user, _pg_binary("pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_database_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: SQLite in tmp_path, or a new database on the test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shoal.db'}"
    import psycopg

    server: str = request.getfixturevalue("postgres_server")
    name = f"shoal_test_{os.getpid()}_{next(_database_numbers)}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.replace("/postgres?", f"/{name}?")
