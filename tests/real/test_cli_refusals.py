"""Pipeline commands refuse what no model can answer at once, with one error and a fix, and
exit non-zero when nothing came out. Real SQLite and files; the only model is fake:echo."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from shoal.errors import ConfigError, ContextLengthError, InputError

from .conftest import invoke


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SHOAL_DATABASE_URL": f"sqlite:///{tmp_path / 'memory.db'}",
            "SHOAL_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture
def shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    connection = sqlite3.connect(path)
    connection.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL);"
                             "INSERT INTO orders VALUES (1, 20.0);")
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


ECHO = ("--model", "fake:echo", "--no-escalation")


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_an_empty_question_is_refused(shop: str, env: dict[str, str], question: str) -> None:
    done = invoke("ask", question, "--db", shop, *ECHO, env=env)
    assert done.exit_code == 1 and isinstance(done.exception, InputError)
    assert "the question is empty" in str(done.exception)


def test_a_database_without_tables_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    done = invoke("ask", "How many orders?", "--db", f"sqlite:///{empty}", *ECHO, env=env)
    assert done.exit_code == 1 and isinstance(done.exception, InputError)
    assert "has no tables" in str(done.exception) and "ocr-to-sql" in str(done.exception)


def test_a_question_longer_than_the_context_is_refused(shop: str, env: dict[str, str]) -> None:
    question = "How many orders were placed by customers who " + "also ordered " * 3000 + "?"
    done = invoke("ask", question, "--db", shop, *ECHO, env={**env, "SHOAL_N_CTX": "2048"})
    assert done.exit_code == 1 and isinstance(done.exception, ContextLengthError)
    error = done.exception
    assert error.context_length == 2048 and (error.prompt_tokens or 0) > 2048
    assert "num_ctx" in (error.fix or "")


def test_no_answer_exits_non_zero(shop: str, env: dict[str, str], tmp_path: Path) -> None:
    done = invoke("ask", "How many orders?", "--db", shop, *ECHO, "--json", env=env)
    assert done.exit_code == 1, done.output  # the echo is never a SELECT
    assert json.loads(done.stdout)["error"]
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": 1, "question": "How many?"}\n{"id": 2, "question": " "}\n')
    batch = invoke("ask", "--questions", str(questions), "--db", shop, *ECHO, env=env)
    assert batch.exit_code == 1  # no question was answered
    assert [json.loads(line)["id"] for line in batch.stdout.splitlines()] == [1, 2]


def test_contradicting_escalation_flags_are_refused(shop: str, env: dict[str, str]) -> None:
    done = invoke("ask", "How many?", "--db", shop, "--escalate-to", "fake:echo",
                  "--no-escalation", env=env)
    assert done.exit_code == 1 and isinstance(done.exception, ConfigError)


def test_a_batch_where_every_file_failed_exits_non_zero(tmp_path: Path,
                                                       env: dict[str, str]) -> None:
    files = []
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_text("not an image")
        files.append(str(tmp_path / name))
    db = f"sqlite:///{tmp_path / 'docs.db'}"
    done = invoke("ocr-to-sql", *files, "--db", db, *ECHO, "--json", env=env)
    assert done.exit_code == 1
    assert [r["status"] for r in json.loads(done.stdout)] == ["error", "error"]
