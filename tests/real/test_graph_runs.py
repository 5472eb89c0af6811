"""Durable runs: a run killed with SIGKILL mid-graph resumes with `shoal runs resume` and
finishes without duplicating side effects. Same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .graph_fixtures import STEPS, WRITES, effect_rows

ROOT = Path(__file__).resolve().parents[2]
GRAPH = "tests.real.graph_fixtures:effects"


def shoal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shoal", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def environment(database_url: str, markers: Path, step_seconds: str) -> dict[str, str]:
    return {**os.environ, "SHOAL_DATABASE_URL": database_url,
            "SHOAL_TEST_MARKERS": str(markers), "SHOAL_TEST_STEP_SECONDS": step_seconds}


def test_uninterrupted_run_finishes_and_is_recorded(database_url: str, tmp_path: Path) -> None:
    env = environment(database_url, tmp_path, "0")
    done = shoal(env, "run", GRAPH, "--input", json.dumps({"thread": "calm"}), "--thread",
                 "calm", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "finished" and outcome["value"]["done"] == list(STEPS)
    assert effect_rows(database_url, "calm") == (sorted(WRITES), sorted(WRITES))
    listed = shoal(env, "runs", "list")
    assert listed.returncode == 0 and "finished" in listed.stdout


@pytest.mark.parametrize("kill_at", ["b", "c", "d"])
def test_killed_run_resumes_without_duplicate_effects(
        database_url: str, tmp_path: Path, kill_at: str) -> None:
    thread = f"kill-{kill_at}"
    env = environment(database_url, tmp_path, "3")
    child = subprocess.Popen(
        [sys.executable, "-m", "shoal", "run", GRAPH, "--input", json.dumps({"thread": thread}),
         "--thread", thread], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    marker = tmp_path / f"{thread}.{kill_at}"
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, "the run ended before reaching the kill point"
        assert time.monotonic() < deadline, "the kill point was never reached"
        time.sleep(0.05)
    time.sleep(0.3)  # inside the step: its side effect (if any) is written, not checkpointed
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    resumed = shoal(environment(database_url, tmp_path, "0"), "runs", "resume", thread,
                    "--json")
    assert resumed.returncode == 0, resumed.stderr
    outcome = json.loads(resumed.stdout)
    assert outcome["status"] == "finished" and outcome["value"]["done"] == list(STEPS)
    effects, attempts = effect_rows(database_url, thread)
    assert effects == sorted(WRITES)  # each side effect exactly once
    if kill_at in WRITES:  # the killed step ran twice; its effect was not duplicated
        assert attempts.count(kill_at) == 2
