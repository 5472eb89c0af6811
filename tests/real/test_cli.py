"""The `shoal` CLI end to end on the embedded pack: in process (typer's runner), except where
a real process is the point (how `main` prints an error and exits)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from .conftest import invoke

URI = "pack:qwen2.5-coder-0.5b"


def shoal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shoal", *args], capture_output=True, text=True,
                          check=False, timeout=600)


class Person(BaseModel):
    name: str
    age: int


def test_chat_json_with_schema(qwen_gguf: Path, tmp_path: Path) -> None:
    schema = tmp_path / "person.json"
    schema.write_text(json.dumps(Person.model_json_schema()))
    done = invoke("chat", URI, "Invent a person: name and age.", "--schema", str(schema),
                  "--json", "--temperature", "0", "--seed", "3")
    assert done.exit_code == 0, done.output
    response = json.loads(done.stdout)
    Person.model_validate_json(response["text"])
    assert response["usage"]["completion_tokens"] > 0 and response["model"] == URI


def test_chat_streams_plain_text(qwen_gguf: Path) -> None:
    done = invoke("chat", URI, "Say hello.", "--max-tokens", "16", "--temperature", "0")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() and "completion tokens" in done.stderr


def test_models_list_json_reports_the_pulled_pack(qwen_gguf: Path) -> None:
    done = invoke("models", "list", "--json")
    assert done.exit_code == 0, done.output
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m",
                         "gemma3-270m"}
    assert rows["qwen2.5-coder-0.5b"]["installed"] and rows["qwen2.5-coder-0.5b"]["sha_ok"]


def test_probe_reports_and_stores(qwen_gguf: Path, tmp_path: Path) -> None:
    done = invoke("models", "probe", URI, "--json",
                  env={"SHOAL_CACHE_DIR": str(qwen_gguf.parent.parent)})
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["json_schema_rate"] >= 2 / 3  # grammar-enforced: should be 1.0
    assert report["trained_context_length"] == 32768
    assert report["decode_tokens_per_second"] > 1 and report["prefill_tokens_per_second"] > 1
    stored = json.loads((qwen_gguf.parent.parent / "probes.json").read_text())
    assert stored[URI]["native_tool_calls"] == report["native_tool_calls"]


def test_errors_are_one_clear_message(tmp_path: Path) -> None:
    done = shoal("chat", f"gguf:{tmp_path / 'missing.gguf'}", "hi")
    assert done.returncode == 1
    assert "does not exist" in done.stderr and "fix:" in done.stderr
    assert "Traceback" not in done.stderr
