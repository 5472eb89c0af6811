"""Fail fast, fail clearly: every command against every environmental fault that applies to it
ends with one `error:` line and one `fix:` line on stderr, exit code 1, no traceback, and
before any expensive work (no OCR, no model call). The matrix is printed (`-s` shows it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RECEIPT = REPO / "examples" / "documents" / "receipt-2.jpg"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


PG_DOWN = f"postgresql://shoal@127.0.0.1:{_closed_port()}/nothing"
UNOPENABLE = "sqlite:////proc/shoal-cannot-create/x.db"  # not even root can create it
OLLAMA_DOWN = f"http://127.0.0.1:{_closed_port()}"

# fault -> (extra environment, what the command line gets in place of {db} / {model} / {file})
FAULTS = {
    "target db unreachable": ({}, {"db": PG_DOWN}),
    "target db unopenable": ({}, {"db": UNOPENABLE}),
    "memory db unopenable": ({"SHOAL_DATABASE_URL": UNOPENABLE}, {}),
    "model server down": ({"OLLAMA_HOST": OLLAMA_DOWN}, {"model": "ollama:qwen2.5-coder:0.5b"}),
    "file missing": ({}, {"file": "/nonexistent/receipt.png"}),
}
COMMANDS = {
    "ocr-to-sql": ["ocr-to-sql", "{file}", "--db", "{db}", "--model", "{model}",
                   "--no-escalation"],
    "ask": ["ask", "How many documents are there?", "--db", "{db}", "--model", "{model}",
            "--no-escalation"],
    "review list": ["review", "list", "--db", "{db}"],
    "runs list": ["runs", "list"],
    "agent run": ["agent", "run", "echo", "hello"],
    "db grant": ["db", "grant", "--db", "{db}", "--role", "reader", "--tables", "documents"],
}
# which faults each command meets (it has that target)
APPLIES = {
    "ocr-to-sql": ["target db unreachable", "target db unopenable", "memory db unopenable",
                   "model server down", "file missing"],
    "ask": ["target db unreachable", "model server down", "memory db unopenable"],
    "review list": ["target db unreachable", "target db unopenable"],
    "runs list": ["memory db unopenable"],
    "agent run": ["memory db unopenable", "model server down"],
    "db grant": ["target db unreachable"],
}
ECHO_AGENT = """name: echo
model: {model}
instructions: Repeat the message.
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    (folder / "shoal.toml").write_text("")
    (folder / "configs" / "agents").mkdir(parents=True)
    docs = folder / "docs.db"
    import sqlite3

    with sqlite3.connect(docs) as connection:  # a target with a table, for ask
        connection.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, total NUMERIC)")
    return folder


CELLS = [(command, fault) for command, faults in APPLIES.items() for fault in faults]


@pytest.mark.parametrize(("command", "fault"), CELLS, ids=[f"{c}|{f}" for c, f in CELLS])
def test_a_command_meets_a_fault_with_one_error_and_its_fix(command: str, fault: str,
                                                           project: Path) -> None:
    env_extra, values = FAULTS[fault]
    fill = {"db": f"sqlite:///{project / 'docs.db'}", "model": "fake:echo",
            "file": str(RECEIPT)} | values
    (project / "configs" / "agents" / "echo.yaml").write_text(
        ECHO_AGENT.format(model=fill["model"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOAL_", "OLLAMA_"))}
    env |= {"SHOAL_DATABASE_URL": f"sqlite:///{project / 'memory.db'}",
            "OLLAMA_MODELS": str(project / "no-ollama-store"), **env_extra}
    args = [part.format(**fill) for part in COMMANDS[command]]
    done = subprocess.run([sys.executable, "-m", "shoal", *args], env=env, cwd=project,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    print(f"\n{command:<12} | {fault:<22} | {' / '.join(lines)[:150]}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert [line.split(":")[0] for line in lines] == ["error", "fix"], done.stderr
    assert done.stdout == ""  # nothing was done: no table of results, no answer
