"""The embedding examples in examples/ run as a user runs them (a fresh process, the real
embedded models), on a temporary memory database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(("script", "expected"), [
    ("embed_python.py", ["support_router -> {'label': '", "node classify finished",
                         "support_triage finished"]),
    ("http_client.py", ["refused without a key: 401", "summarizer -> ", "event: classify",
                        "event: finished"]),
    ("langchain_chain.py", ["due on Monday.' -> ", "twice.' -> ",
                            "tool support_router: args ['input']"]),
])
def test_an_example_runs(script: str, expected: list[str], tmp_path: Path,
                         qwen_gguf: Path, qwen15_gguf: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOAL_")}
    env["SHOAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'shoal.db'}"
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for text in expected:
        assert text in done.stdout, done.stdout
