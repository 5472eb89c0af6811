"""`shoal serve` as a client sees it: the real app on a loopback port (uvicorn), real OCR and
SQLite, the shipped fake models. Auth, errors as JSON, OCR-to-SQL by upload, review
decisions, server-sent events of node updates, resume after approval, a full queue's 429."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .service_fixtures import KEY, Served, kiosk_receipt, serve


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, running=1, waiting=1, max_body_bytes=2**20)


def _events(response: httpx.Response) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_every_route_but_health_needs_a_known_key(served: Served) -> None:
    assert httpx.get(f"{served.url}/v1/health").status_code == 200
    missing = httpx.get(f"{served.url}/v1/agents")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "auth_error"
    assert "Authorization: Bearer KEY" in missing.json()["error"]["fix"]
    wrong = httpx.get(f"{served.url}/v1/agents", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    by_header = httpx.get(f"{served.url}/v1/agents", headers={"X-API-Key": KEY})
    assert by_header.status_code == 200
    assert {a["name"] for a in by_header.json()} >= {"router", "replier"}
    router = next(a for a in by_header.json() if a["name"] == "router")
    assert router["output_schema"]["required"] == ["label"]
    spec = httpx.get(f"{served.url}/openapi.json").json()
    assert "/v1/ocr-to-sql" in spec["paths"] and "/v1/threads/{thread_id}/resume" in spec["paths"]


def test_an_agent_call_returns_output_usage_and_cost_and_is_in_the_ledger(
        served: Served) -> None:
    answer = httpx.post(f"{served.url}/v1/agents/router/invoke", headers=served.headers,
                        json={"input": "I was charged twice"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["output"] == {"label": "billing"} and body["model"] == "fake:router"
    assert body["usage"]["prompt_tokens"] > 0 and body["cost_usd"] >= 0
    runs = httpx.get(f"{served.url}/v1/runs", headers=served.headers).json()
    assert runs[0]["graph"] == "agent:router" and runs[0]["status"] == "finished"
    assert runs[0]["calls"] == 1 and runs[0]["tokens"] > 0


def test_errors_are_json_with_a_stable_code_and_the_fix(served: Served) -> None:
    unknown = httpx.post(f"{served.url}/v1/agents/nosuch/invoke", headers=served.headers,
                         json={"input": "x"})
    assert unknown.status_code == 400
    error = unknown.json()["error"]
    assert error["code"] == "config_error" and "router" in error["fix"]
    invalid = httpx.post(f"{served.url}/v1/agents/router/invoke", headers=served.headers,
                         json={"wrong": 1})
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "invalid_request"
    big = httpx.post(f"{served.url}/v1/ocr-to-sql", headers=served.headers,
                     files={"files": ("big.png", b"0" * (2**20 + 10), "image/png")})
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"


def test_ocr_to_sql_by_upload_then_a_review_decision_changes_the_row_once(
        served: Served, tmp_path: Path) -> None:
    receipt = kiosk_receipt(tmp_path / "kiosk.png")
    with receipt.open("rb") as handle:
        uploaded = httpx.post(f"{served.url}/v1/ocr-to-sql", headers=served.headers,
                              files={"files": ("kiosk.png", handle, "image/png")}, timeout=120)
    assert uploaded.status_code == 200, uploaded.text
    (record,) = uploaded.json()
    assert record["file"] == "kiosk.png" and record["status"] == "needs_review"
    assert record["total"] == "5.75"

    (pending,) = httpx.get(f"{served.url}/v1/reviews", headers=served.headers).json()
    assert pending["sha256"] == record["sha256"] and "'kr' may be" in pending["problems"]
    bad = httpx.post(f"{served.url}/v1/reviews/{pending['id']}", headers=served.headers,
                     json={"action": "approve", "fix": {"total": "5,75"}})
    assert bad.status_code == 400 and "not an amount" in bad.json()["error"]["message"]

    decided = httpx.post(f"{served.url}/v1/reviews/{pending['id']}", headers=served.headers,
                         json={"action": "approve", "fix": {"currency": "sek"}})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    with sqlite3.connect(served.docs_db) as connection:
        row = connection.execute("SELECT currency, status FROM documents").fetchone()
    assert row == ("SEK", "approved")
    again = httpx.post(f"{served.url}/v1/reviews/{pending['id']}", headers=served.headers,
                       json={"action": "reject"})
    assert again.status_code == 400  # decided already: nothing changes
    assert httpx.get(f"{served.url}/v1/reviews", headers=served.headers).json() == []


def test_a_streamed_run_sends_tokens_and_each_node_update_then_the_outcome(
        served: Served) -> None:
    with httpx.stream("POST", f"{served.url}/v1/graphs/triage/runs", headers=served.headers,
                      json={"input": "I was charged twice", "mode": "stream"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    names = [name for name, _ in events]
    updates = [(i, data) for i, (name, data) in enumerate(events) if name == "update"]
    assert [data["node"] for _, data in updates] == ["classify", "reply"]
    assert names[-1] == "end" and set(names) == {"token", "update", "end"}
    assert updates[0][1]["update"]["outputs"]["classify"] == {"label": "billing"}
    for position, (_, update) in enumerate(updates):  # a node's tokens come before its update
        node = update["node"]
        tokens = [(i, d["text"]) for i, (n, d) in enumerate(events)
                  if n == "token" and d["node"] == node]
        start = updates[position - 1][0] if position else -1
        assert tokens and all(start < i < updates[position][0] for i, _ in tokens)
    reply = "".join(t for n, d in events if n == "token" and d["node"] == "reply"
                    for t in [d["text"]])
    assert reply == "We refund it today."
    end = events[-1][1]
    assert end["status"] == "finished"
    assert end["state"]["outputs"]["reply"] == "We refund it today."


def test_a_run_waiting_for_approval_resumes_with_the_decision(served: Served) -> None:
    started = httpx.post(f"{served.url}/v1/graphs/approved_reply/runs", headers=served.headers,
                         json={"input": "refund please"})
    assert started.status_code == 200, started.text
    outcome = started.json()
    assert outcome["status"] == "interrupted" and "reply" not in outcome["state"]["outputs"]
    thread = outcome["thread_id"]
    status = httpx.get(f"{served.url}/v1/threads/{thread}", headers=served.headers).json()
    assert status["status"] == "interrupted"

    with httpx.stream("POST", f"{served.url}/v1/threads/{thread}/resume?stream=true",
                      headers=served.headers, json={"approve": True}) as response:
        events = _events(response)
    assert [d["node"] for n, d in events if n == "update"] == ["reply"]
    assert events[-1][1]["status"] == "finished"
    assert events[-1][1]["state"]["outputs"]["reply"] == "We refund it today."
    empty = httpx.post(f"{served.url}/v1/threads/{thread}/resume", headers=served.headers,
                       json={})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "input_error"


def test_a_background_run_is_followed_by_its_thread(served: Served) -> None:
    started = httpx.post(f"{served.url}/v1/graphs/triage/runs", headers=served.headers,
                         json={"input": "where is my parcel", "mode": "background"})
    thread = started.json()["thread_id"]
    deadline = time.monotonic() + 30
    while True:
        status = httpx.get(f"{served.url}/v1/threads/{thread}", headers=served.headers).json()
        if status["status"] == "finished" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status["status"] == "finished"
    assert status["state"]["outputs"]["reply"] == "We refund it today."


def test_a_full_queue_answers_429_with_retry_after_and_never_crashes(served: Served) -> None:
    results: dict[str, httpx.Response] = {}

    def call(name: str) -> None:
        results[name] = httpx.post(f"{served.url}/v1/agents/slow/invoke",
                                   headers=served.headers, json={"input": name}, timeout=60)

    def inside() -> int:
        queues = httpx.get(f"{served.url}/v1/health").json()["queues"]
        return int(queues.get("fake:slow", {}).get("inside", 0))

    threads = []
    for name, want in (("first", 1), ("second", 2)):  # one runs, one waits (running=1, waiting=1)
        threads.append(threading.Thread(target=call, args=(name,)))
        threads[-1].start()
        deadline = time.monotonic() + 10
        while inside() < want and time.monotonic() < deadline:
            time.sleep(0.01)
        assert inside() == want
    refused = httpx.post(f"{served.url}/v1/agents/slow/invoke", headers=served.headers,
                         json={"input": "third"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "service_busy"
    served.release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert [results[n].status_code for n in ("first", "second")] == [200, 200]
    assert httpx.get(f"{served.url}/v1/health").json()["queues"]["fake:slow"]["refused"] == 1


def test_shoal_serve_runs_as_a_command_and_refuses_to_start_without_keys(
        tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOAL_")}
    env["SHOAL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'memory.db'}"
    refused = subprocess.run([sys.executable, "-m", "shoal", "serve", "--host", "0.0.0.0"],
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "no API key is configured" in refused.stderr
    assert "SHOAL_API_KEYS" in refused.stderr and "Traceback" not in refused.stderr

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "shoal", "serve", "--port", str(port)],
                               env={**env, "SHOAL_API_KEYS": "k1,k2"}, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert health.json()["auth"] is True
        agents = httpx.get(f"http://127.0.0.1:{port}/v1/agents",
                           headers={"Authorization": "Bearer k2"})
        assert agents.status_code == 200
        assert "support_router" in {a["name"] for a in agents.json()}  # the packaged agents
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully on SIGTERM (the lifespan closes the session), then ends
    # with that signal again
    assert process.returncode in (0, -15) and b"Traceback" not in err, err


def test_a_graph_built_in_python_runs_by_its_import_path(served: Served) -> None:
    started = httpx.post(f"{served.url}/v1/graphs/tests.real.graph_fixtures:effects/runs",
                         headers=served.headers, json={"input": {"thread": "py-1"}})
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "finished"
    assert started.json()["state"]["value"]["done"] == ["a", "b", "c", "d"]
